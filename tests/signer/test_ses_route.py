"""An official (GB/T 38540) seal in the route: the village and township seal with PAdES (the village's
certification carries the slot contract), the county applies its official seal in its own box, and
``verify_pdf`` reports it with the same facts and codes as any seal — the route rule included."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from api.services.documents import DocumentService, seal_font
from signer import ses, ses_pdf, sm2_pki
from signer.report import Verdict
from signer.seal_image import SealSpec, seal_png
from signer.sign import PdfToSeal
from signer.sm2 import Sm2PrivateKey
from tests.signer.sm2_world import COUNTY, ENDPOINTS, OTHER_VILLAGE, TOWNSHIP, VILLAGE, Sm2World

DAY = dt.timedelta(days=1)


def _now() -> dt.datetime:
    """Now, when sealing (not at import: the certificates are issued later, in the module fixture)."""
    return dt.datetime.now(dt.UTC)


class OfficialRoute:
    def __init__(self, world: Sm2World, documents: DocumentService) -> None:
        self.world = world
        form = documents.render("dibao_application",
                                documents.catalogue.family("dibao_application").sample()).rendered.pdf
        self.v2 = world.seal(world.seal(form, VILLAGE), TOWNSHIP)
        # the seal maker (a 电子印章制作管理单位 in real life; here a certificate under the test SM2 root)
        self.maker_key = Sm2PrivateKey.generate()
        registry = world.authority.registry()
        self.maker_cert = sm2_pki.issue_office_certificate(
            office=registry.get(COUNTY).identity, public_key=self.maker_key.public_key, ca_cert=world.root_cert,
            ca_key=world.root_key, endpoints=ENDPOINTS)

    def official_seal(self, office_id: str, *, listed: str | None = None) -> bytes:
        picture = ses.SealPicture("PNG", seal_png(SealSpec("曲阳县民政局"), seal_font(), dpi=150), 42, 42)
        now = _now()
        info = ses.SealInfo(es_id="13063420260001", name="曲阳县民政局", signer_certs=(
            self.world.certs[listed or office_id].dump(),), picture=picture, valid_start=now, valid_end=now + 365 * DAY,
            created=now)
        return ses.make_seal(info, maker_key=self.maker_key, maker_cert=self.maker_cert.dump())

    def seal(self, pdf: bytes, office_id: str, *, signer_of: str | None = None) -> bytes:
        """``office_id``'s box, sealed with the official seal of ``signer_of`` (default: the same office)."""
        office = self.world.authority.registry().get(office_id)
        plan = self.world.sealing.plan(PdfToSeal(pdf), office, opinion=None, level=None, day=dt.date.today())
        who = signer_of or office_id
        return ses_pdf.seal_pdf(pdf, seal=self.official_seal(who), signer_key=self.world.keys[who],
                                signer_cert=self.world.certs[who].dump(), page=plan.target.page_index,
                                box=plan.target.rect, field_name=plan.target.field_name, when=_now())


@pytest.fixture(scope="module")
def route(tmp_path_factory: pytest.TempPathFactory, documents: DocumentService) -> OfficialRoute:
    return OfficialRoute(Sm2World(tmp_path_factory.mktemp("ses-route")), documents)


def test_the_countys_official_seal_passes_in_its_box(route: OfficialRoute) -> None:
    v3 = route.seal(route.v2, COUNTY)
    # the installation's own current CRL vouches for the official seal (the DSS's CRLs predate it)
    report = route.world.verify(v3, own_crls=(route.world.crl(),))
    assert report.verdict is Verdict.PASSED, [(f.code, f.field) for f in report.findings]
    assert [(s.office_id, s.tier, s.level) for s in report.signatures] == [
        (VILLAGE, "village", "B-LT"), (TOWNSHIP, "township", "B-LT"), (COUNTY, "county", "GB/T 38540")]
    county = report.signatures[-1]
    assert county.intact and county.valid and county.trusted and county.slot == "county"


def test_a_changed_byte_after_the_official_seal_fails(route: OfficialRoute) -> None:
    v3 = route.seal(route.v2, COUNTY)
    at = len(v3) // 3
    forged = v3[:at] + bytes([v3[at] ^ 1]) + v3[at + 1:]
    assert route.world.verify(forged).verdict is Verdict.FAILED


def test_an_official_seal_of_the_wrong_office_fails_the_route(route: OfficialRoute) -> None:
    """Another office's genuine official seal and key in the county's box."""
    forged = route.seal(route.v2, COUNTY, signer_of=OTHER_VILLAGE)
    report = route.world.verify(forged)
    assert report.verdict is Verdict.FAILED
    assert {"WRONG_OFFICE", "ROUTE_ORDER", "WRONG_TIER"} & set(report.codes), report.codes


def test_an_official_seal_under_another_root_is_not_trusted(route: OfficialRoute, tmp_path: Path) -> None:
    v3 = route.seal(route.v2, COUNTY)
    other = sm2_pki.make_root(Sm2PrivateKey.generate(), common_name="另一个 SM2 根证书", organization="别处")
    from signer.verify import TrustSettings, verify_pdf
    from tests.signer.sm2_world import crypto

    report = verify_pdf(v3, TrustSettings(roots=(crypto(other),)))
    assert report.verdict is Verdict.FAILED
    assert "CERT_UNTRUSTED" in report.codes or "SES_MAKER_UNTRUSTED" in report.codes


def test_an_official_seal_placed_outside_its_box_is_refused(route: OfficialRoute) -> None:
    """The county's official seal as a new field of its own, not in the county's slot."""
    office = route.world.authority.registry().get(COUNTY)
    plan = route.world.sealing.plan(PdfToSeal(route.v2), office, opinion=None, level=None, day=dt.date.today())
    x0, y0, x1, y1 = plan.target.rect
    out = ses_pdf.seal_pdf(route.v2, seal=route.official_seal(COUNTY), signer_key=route.world.keys[COUNTY],
                           signer_cert=route.world.certs[COUNTY].dump(), page=plan.target.page_index,
                           box=(x0, y0 - 200, x1, y1 - 200), field_name="县级审批", when=_now())
    report = route.world.verify(out)
    assert report.verdict is Verdict.FAILED
    assert "UNEXPECTED_SIGNATURE" in report.codes, report.codes
