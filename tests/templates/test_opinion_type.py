"""Issue 22 item 6: opinions are set at 12 pt down to a floor of 五号 (10.5 pt), never smaller; the boxes, as
the form lays them out, hold the default and typical opinions (and the county's figures) at 10.5 pt or larger."""

from __future__ import annotations

import pytest

from api.services.documents import DocumentService
from signer.appearance import MM, TEXT_FLOOR, BoxAppearance, FaceChain, OutlineFont, box_ops
from signer.errors import NotSealableError
from signer.seal_image import SealSpec
from templates.fonts import FontSet
from templates.form_text import default_opinion

TYPICAL = ("经入户核查，申请人家庭共同生活成员三人，配偶因病致残丧失劳动能力，女儿在校就读，家庭月人均收入低于当地"
           "最低生活保障标准，无大额存款和机动车辆，家庭财产状况符合规定，申请材料齐全，情况属实。")
COUNTY_FIGURES = ("核定保障人数：3人　保障类别：B类　保障标准：700.00元/人·月",
                  "月人均收入差额：593.33元　户月保障金额：1,780.00元", "自2027年1月起发放")


def _faces() -> tuple[FaceChain, OutlineFont]:
    faces = {face.role: (path, index) for face, path, index in FontSet.locate().files}
    return FaceChain(OutlineFont(*faces["kai"]), OutlineFont(*faces["fallback"])), OutlineFont(*faces["song"])


@pytest.mark.parametrize("family_id", ["dibao_application", "temp_relief_application"])
def test_default_and_typical_opinions_stay_at_or_above_10_5_pt(family_id: str, documents: DocumentService) -> None:
    assert TEXT_FLOOR == 10.5
    out = documents.render(family_id, documents.catalogue.family(family_id).sample())
    chain, seal_font = _faces()
    kind = "dibao" if family_id == "dibao_application" else "relief"
    typical = (TYPICAL * 2)[:156]
    for slot in out.rendered.slots:
        if slot.purpose != "tier":
            continue
        width, height = slot.rect[2] - slot.rect[0], slot.rect[3] - slot.rect[1]
        figures = {"county": COUNTY_FIGURES,
                   "township": ("保障人数：3人", "拟月保障金额：1,780.00元")}.get(slot.name, ())
        for opinion in (default_opinion(kind, slot.name, reports_to="燕赵镇人民政府"), typical):
            drawn = box_ops(BoxAppearance(width=width, height=height, opinion=opinion, office="燕赵镇人民政府",
                                          date_text="2026年11月22日", seal=SealSpec("燕赵镇人民政府", 42.0),
                                          figures=figures, staff=("李协理", "张主任")),
                            text_font=chain, seal_font=seal_font)
            assert drawn.size >= 10.5, (family_id, slot.name, len(opinion), drawn.size, round(height / MM))


def test_an_opinion_too_long_for_10_5_pt_is_refused_naming_the_floor(documents: DocumentService) -> None:
    out = documents.render("dibao_application", documents.catalogue.family("dibao_application").sample())
    slot = out.rendered.slot("village")
    chain, seal_font = _faces()
    with pytest.raises(NotSealableError) as caught:
        box_ops(BoxAppearance(width=slot.rect[2] - slot.rect[0], height=slot.rect[3] - slot.rect[1],
                              opinion=TYPICAL * 5, office="x", date_text="x", seal=SealSpec("东沟南村村民委员会", 42.0),
                              staff=("李协理", "张主任")), text_font=chain, seal_font=seal_font)
    assert caught.value.code == "OPINION_TOO_LONG" and "最小字号 10.5 磅" in caught.value.message
