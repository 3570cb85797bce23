"""The main job's demo: PKI, every sample document, the 低保 application form sealed village → township → county
(standalone sealing, for the verification and tamper demonstration), then real cases run through the register
over HTTP (section 5): every sealed 公示 and certificate in the output folder comes from the register, so its QR
code resolves on ``minseal demo --serve``. Everything lands in one output folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from api.services.authority import STATUS_LABELS
from api.services.container import Services
from api.services.documents import seal_font
from api.settings import Settings
from api.storage.files import write_atomic
from signer.tamper import paint_over

ROUTE = (("130634100201", "村委会意见"), ("130634100", "乡镇审核意见"), ("130634", "县级审批意见"))


def run_demo(services: Services, out: Path, echo: Callable[[str], None]) -> None:
    settings, authority, documents = services.settings, services.authority, services.documents
    sealing, verification = services.standalone_sealing, services.verification

    echo(f"MinSeal 演示：输出目录 {out.resolve()}")
    echo(f"1. 单位与印章（数据目录 {settings.data_dir}，密钥目录 {settings.keys_dir}）")
    for st in authority.init_demo(seal_font()):
        _svg, png = authority.seal_image_paths(st.office.id)
        write_atomic(out / "seals" / png.name, png.read_bytes())
        store = st.record.key_store if st.record else st.office.key_store
        echo(f"  {st.office.id:<14}{st.office.name}（{st.office.tier.label}，{store}）"
             f"{STATUS_LABELS[st.status]} → {out / 'seals' / png.name}")
    echo(f"  根证书 {authority.root_cert_path}，吊销列表 {authority.crl_path}")

    echo("2. 文书")
    rendered: dict[str, bytes] = {}
    for family in documents.catalogue:
        result = documents.render(family.id, family.sample(), with_docx=True)
        rendered[family.id] = result.rendered.pdf
        pdf_path, docx_path = out / f"{family.id}.pdf", out / f"{family.id}.docx"
        write_atomic(pdf_path, result.rendered.pdf)
        write_atomic(docx_path, result.docx or b"")
        write_atomic(out / f"{family.id}.slots.json", json.dumps(
            [s.to_dict() for s in result.rendered.slots], ensure_ascii=False, indent=2).encode())
        echo(f"  {family.title:<16} → {pdf_path}（{result.rendered.page_count} 页，"
             f"{len(result.rendered.pdf) // 1024} KB）, {docx_path}")

    echo(f"3. 用印（{settings.seal_level}，时间戳：{settings.tsa_url or 'MinSeal 内置时间戳服务'}；"
         "独立用印，不入登记簿）")
    pdf = rendered["dibao_application"]
    for step, (office_id, box) in enumerate(ROUTE, 1):
        sealed = sealing.seal(pdf, office_id, actor="demo")
        path = out / f"dibao_application.sealed-{step}-{sealed.office.tier.value}.pdf"
        write_atomic(path, sealed.pdf)
        kind = "认证签名" if sealed.certified else "会签"
        echo(f"  低保申请审批表 {box}：{sealed.office.name} {kind}，签名 {step} 个，"
             f"+{(len(sealed.pdf) - len(pdf)) // 1024} KB → {path}")
        pdf = sealed.pdf
    echo("  公示、结果公布和低保证明只由登记簿出具（见第 5 节）：二维码可扫码核验；第 2 节的样张不带二维码")
    echo(f"  用印日志：审计链（数据库 {authority.database().url}，minseal audit verify 可校验）")

    echo("4. 校验（下一级收件前验章）")
    for path in sorted(out.glob("dibao_application.sealed*.pdf")):
        echo(f"  {path.name}：{verification.verify(path.read_bytes()).summary()}")
    final = out / "dibao_application.sealed-3-county.pdf"
    tampered = paint_over(final.read_bytes())
    tampered_path = out / "dibao_application.tampered.pdf"
    write_atomic(tampered_path, tampered)
    echo(f"  篡改副本 {tampered_path.name}（签章后在页面上覆盖了一块内容）："
         f"{verification.verify(tampered).summary()}")

    from api.cli.demo_network import run_network_demo
    from api.services.demo_users import create_demo_users
    from api.storage.audit import verify_chain

    services.prepare()
    path, created = create_demo_users(services)
    echo(f"  演示用户 {path}（新建 {created} 个）")
    samples = {f: documents.catalogue.family(f).sample() for f in ("dibao_application", "temp_relief_application")}
    run_network_demo(settings, out, samples, tampered, echo)
    check = verify_chain(services.audit_rows())
    echo(f"6. 审计链（用印日志）：{'完整' if check.ok else '被破坏：' + str(check.problem)}，共 {check.rows} 条")


def serve_desk(settings: Settings, echo: Callable[[str], None], *, port: int = 8000) -> None:
    """``minseal demo --serve``: leave the service running and say how to sign in to the staff desk."""
    import uvicorn

    from api.services.demo_users import passwords_path

    echo("7. 网上办公（Ctrl+C 停止服务）")
    echo(f"  地址：http://127.0.0.1:{port}/desk")
    echo(f"  演示用户及密码：{passwords_path(settings)}（每行：用户名、密码、单位、角色）")
    echo("  例如：村经办人 clerk-130634100201，乡镇审核人 reviewer-130634100，县审批人 approver-130634，"
         "乡镇管理员 admin-130634100")
    import os

    # the demo's own settings (data dir, keys, public address) for the service the factory builds: the QR codes
    # the demo wrote open on this service
    os.environ.update({"MINSEAL_DATA_DIR": str(settings.data_dir.resolve()),
                       "MINSEAL_KEYS_DIR": str(settings.keys_dir.resolve()),
                       "MINSEAL_PUBLIC_BASE_URL": settings.public_base_url})
    echo(f"  扫码核验地址：{settings.public_base_url}/v/…（out/ 中的公示与证明）")
    from api.cli.server import server_options

    uvicorn.run("api.http.app:app_from_env", factory=True, host="127.0.0.1", port=port, **server_options(settings))
