"""A service world for the public-page tests: applications accepted by the township, the personal data they carry
(what no public response may show), and helpers to read QR codes off rendered pages."""

from __future__ import annotations

import copy
import datetime as dt
import subprocess
from pathlib import Path
from typing import Any

import zxingcpp
from PIL import Image

from api.services.demo_users import demo_username
from api.services.identity import Role
from tests.support.service_world import OTHER_VILLAGE, SAMPLE, TOWNSHIP, VILLAGE, Api, World

#: the service's "today" in these tests (the clock they move)
DAY0 = dt.date(2026, 11, 22)


def upcoming(start: dt.date, days: int = 7) -> str:
    """What a 公示 posted before its period says (a notice built today starts tomorrow)."""
    return f"即将公示（{start.year}年{start.month}月{start.day}日起，共 {days} 天）"


#: the public status of a notice built and posted on DAY0
POSTED_ON_DAY0 = upcoming(DAY0 + dt.timedelta(days=1))
OBJECTION = {"phone": "0312-4211234", "address": "燕赵镇政府院内便民服务中心一楼"}


def second_household() -> dict[str, Any]:
    """Another family in another village, with its own ID numbers, phone and address."""
    data: dict[str, Any] = copy.deepcopy(SAMPLE)
    data["applicant"].update(name="张桂兰", id_number="130634196107220023", phone="13903125566",
                             address="曲阳县燕赵镇北养马村五街3号",
                             registered_address="河北省保定市曲阳县燕赵镇北养马村")
    data["members"] = [
        {"name": "张桂兰", "relation": "本人", "id_number": "130634196107220023", "identity": "务农",
         "health": "重病", "work": "无", "monthly_income": "150.00"},
        {"name": "赵小军", "relation": "子", "id_number": "130634199001010013", "identity": "无劳动能力",
         "health": "精神障碍", "work": "无", "monthly_income": "0"},
    ]
    return data


def private_strings(*datasets: dict[str, Any]) -> set[str]:
    """ID numbers (and their masked forms), phones and addresses in the applications: never public."""
    out: set[str] = set()
    for data in datasets:
        a = data["applicant"]
        out |= {a["id_number"], a["phone"], a["address"], a["registered_address"]}
        out |= {f"{a['id_number'][:6]}********{a['id_number'][-4:]}"}
        for m in data["members"]:
            out.add(m["id_number"])
            out.add(f"{m['id_number'][:6]}********{m['id_number'][-4:]}")
    return out


def login(world: World, base: str, office: str, role: Role) -> Api:
    name = demo_username(office, role)
    return Api(base, name, world.passwords[name])


def accepted_application(world: World, base: str, village: str, data: dict[str, Any]) -> str:
    """Filled and sealed by the village, accepted (countersigned) by the township."""
    clerk, reviewer = login(world, base, village, Role.CLERK), login(world, base, TOWNSHIP, Role.REVIEWER)
    try:
        r = clerk.post("/api/documents", json={"family": "dibao_application", "data": data})
        assert r.status_code == 201, r.text
        doc = r.json()["id"]
        assert clerk.post(f"/api/documents/{doc}/seal", json={}).status_code == 200
        assert clerk.post(f"/api/documents/{doc}/submit").status_code == 200
        r = reviewer.post(f"/api/documents/{doc}/accept")
        assert r.status_code == 200, r.text
        return str(doc)
    finally:
        clerk.close()
        reviewer.close()


def rasterise(pdf: Path, out: Path, *, dpi: int, page: int) -> Image.Image:
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-f", str(page), "-l", str(page), "-singlefile",
                    str(pdf), str(out)], check=True, timeout=120)
    with Image.open(f"{out}.png") as im:
        return im.convert("L")


def read_qr(image: Image.Image) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(image) if b.format == zxingcpp.BarcodeFormat.QRCode]


__all__ = ["DAY0", "OBJECTION", "OTHER_VILLAGE", "SAMPLE", "TOWNSHIP", "VILLAGE"]
