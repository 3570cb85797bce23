"""Checks for Chinese identifiers and the value formats our forms use.

Each check returns ``None`` when the value is good, or a Chinese message saying what is wrong.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^[0-9]{17}[0-9X]$")

_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$")
_LANDLINE_RE = re.compile(r"^0[0-9]{2,3}-?[0-9]{7,8}$")
_AMOUNT_RE = re.compile(r"^[0-9]{1,12}(\.[0-9]{1,2})?$")
_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

#: bidirectional overrides and isolates: they reorder what a reader sees without changing the stored text
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def normalize_code(value: str) -> str:
    """An identifier as typed, in canonical form: NFKC (full-width digits and letters become ASCII), no
    surrounding blanks, upper case (the X of an ID number). Both the checks and the "no ID twice" rule see
    this form, so ０１２ and 012 are the same number."""
    return unicodedata.normalize("NFKC", value).strip().upper()


def control_chars(value: str, *, allow: str = "\n\t") -> list[str]:
    """Characters that must not appear in document text: C0/C1 controls and DEL (U+007F), line and paragraph
    separators, bidirectional overrides; returned as U+XXXX, in order of appearance."""
    found = []
    for c in value:
        if c in allow:
            continue
        if unicodedata.category(c) in ("Cc", "Zl", "Zp") or c in _BIDI_CONTROLS:
            found.append(f"U+{ord(c):04X}")
    return list(dict.fromkeys(found))


def id_check_char(first17: str) -> str:
    """GB 11643 check character (ISO 7064 MOD 11-2) for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def check_id_number(value: str, *, today: date | None = None) -> str | None:
    if not _ID_RE.match(value):
        return "身份证号码应为18位，前17位为数字，末位为数字或X"
    birth = value[6:14]
    try:
        born = date(int(birth[:4]), int(birth[4:6]), int(birth[6:8]))
    except ValueError:
        return f"身份证号码中的出生日期 {birth} 不是有效日期"
    if born > (today or date.today()) or born.year < 1900:
        return f"身份证号码中的出生日期 {birth} 不合理"
    if id_check_char(value[:17]) != value[17]:
        return "身份证号码校验位错误"
    return None


def mask_id_number(value: str) -> str:
    """Public form of an ID number: first 6 and last 4 characters shown (130634********0021)."""
    if len(value) != 18:
        return "*" * len(value)
    return value[:6] + "*" * 8 + value[-4:]


def credit_code_check_char(first17: str) -> str:
    """GB 32100 check character of a 统一社会信用代码."""
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_CHARS[(31 - total % 31) % 31]


def check_credit_code(value: str) -> str | None:
    if len(value) != 18 or any(c not in _CREDIT_CHARS for c in value):
        return "统一社会信用代码应为18位数字或大写字母（不含I、O、Z、S、V）"
    if credit_code_check_char(value[:17]) != value[17]:
        return "统一社会信用代码校验位错误"
    return None


def check_mobile(value: str) -> str | None:
    return None if _MOBILE_RE.match(value) else "手机号码应为以1开头的11位数字"


def check_phone(value: str) -> str | None:
    """A mobile number or a landline with area code (0312-4211234)."""
    if _MOBILE_RE.match(value) or _LANDLINE_RE.match(value):
        return None
    return "电话号码应为11位手机号码或带区号的固定电话（如0312-4211234）"


def parse_amount(value: object) -> Decimal | str:
    """Yuan with at most two decimals; returns the Decimal or a message."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return "金额应为数字（元，最多两位小数）"
    text = repr(value) if isinstance(value, float) else unicodedata.normalize("NFKC", str(value))
    if not _AMOUNT_RE.match(text.strip()):
        return "金额应为非负数，单位元，最多两位小数"
    try:
        return Decimal(text.strip()).quantize(Decimal("0.01"))
    except InvalidOperation:
        return "金额格式无效"


def parse_date(value: object) -> date | str:
    if not isinstance(value, str) or not _DATE_RE.match(value):
        return "日期应写作 YYYY-MM-DD"
    try:
        return date.fromisoformat(value)
    except ValueError:
        return f"{value} 不是有效日期"
