"""``minseal …``: parses arguments, calls the workflow, prints results. Nothing else lives here."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from api import faults, logs
from api.cli.batch import register as register_batch_commands
from api.cli.official import register as register_official_commands
from api.cli.service import register as register_service_commands
from api.errors import EXIT_CODE, exit_code
from api.services.authority import REASONS, STATUS_LABELS
from api.services.container import Services
from api.settings import Settings
from api.storage.files import check_output, read_input, read_json, write_atomic
from signer.errors import ErrorCategory, MinSealError, TemplateDataError, VerificationRefusedError
from signer.slots import FIELD_PREFIX

app = typer.Typer(
    name="minseal",
    help="MinSeal：基层民政文书与电子签章服务",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _seal_font() -> Any:
    from api.services.documents import seal_font

    return seal_font()


def _ctx(ctx: typer.Context) -> Services:
    """The process's services (``api/services/container.py``), built on the first command that asks, never at
    import time; each part is made (and its libraries imported) only when a command uses it."""
    if ctx.obj is None:
        settings = Settings()
        faults.configure(settings)
        ctx.obj = Services(settings)
    assert isinstance(ctx.obj, Services)
    return ctx.obj


@app.command("templates")
def templates_cmd(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """列出文书模板及其字段。"""
    catalogue = _ctx(ctx).documents.catalogue
    listing: list[dict[str, Any]] = [
        {
            "id": f.id, "title": f.title, "kind": f.kind, "audience": f.audience, "tiers": list(f.tiers),
            "fields": [
                {"path": path, "label": spec.label, "type": spec.type, "required": spec.required,
                 "private": spec.private, **({"choices": list(spec.choices)} if spec.choices else {})}
                for path, spec in f.schema.flat
            ],
        }
        for f in catalogue
    ]
    if as_json:
        typer.echo(json.dumps(listing, ensure_ascii=False, indent=2))
        return
    for family in listing:
        typer.echo(f"{family['id']}  {family['title']}（{family['kind']}）")
        for fld in family["fields"]:
            marks = "".join(m for m, on in (("*", fld["required"]), ("🔒", fld["private"])) if on)
            choices = f" [{'/'.join(fld['choices'])}]" if "choices" in fld else ""
            typer.echo(f"    {fld['path']:<40} {fld['type']:<12} {fld['label']}{marks}{choices}")
    typer.echo("\n* 必填　🔒 个人信息（公开文书中脱敏或不显示）")


@app.command("render")
def render_cmd(
    ctx: typer.Context,
    family: Annotated[str, typer.Argument(help="模板编号，见 minseal templates")],
    data: Annotated[Path, typer.Option("--data", help="数据文件（JSON）")],
    output: Annotated[Path, typer.Option("-o", "--output", help="输出 PDF 路径")],
    docx: Annotated[Path | None, typer.Option("--docx", help="同时输出可编辑的 Word 文档")] = None,
    slots: Annotated[Path | None, typer.Option("--slots", help="把签章位置写入此 JSON 文件")] = None,
    verify_url: Annotated[str | None, typer.Option("--verify-url", help="二维码指向的核验网址")] = None,
    split_by_village: Annotated[bool, typer.Option(
        "--split-by-village", help="公示按村分开：每个村一份（文件名后加村名），各在本村张贴")] = False,
) -> None:
    """按模板把数据排成 PDF（及 Word）。数据有误时列出全部问题，不生成任何文件。"""
    if split_by_village:
        _render_per_village(ctx, family, read_json(data), output, docx=docx, inputs=(data,))
        return
    check_output(output, docx, slots, inputs=(data,))
    service = _ctx(ctx).documents
    out = service.render(family, read_json(data), with_docx=docx is not None, verify_url=verify_url)
    write_atomic(output, out.rendered.pdf)
    if docx is not None and out.docx is not None:
        write_atomic(docx, out.docx)
    slot_list = [s.to_dict() for s in out.rendered.slots]
    if slots is not None:
        write_atomic(slots, json.dumps(slot_list, ensure_ascii=False, indent=2).encode())
    typer.echo(f"已生成 {output}（{out.rendered.page_count} 页，{len(out.rendered.pdf) // 1024} KB，"
               f"签章位 {', '.join(s['name'] for s in slot_list)}）")
    if docx is not None:
        typer.echo(f"已生成 {docx}")
    if out.verify_url is None and service.catalogue.family(family).public:
        typer.echo(UNREGISTERED)


#: printed when a notice or certificate is made outside the register: it has no QR code, by design
UNREGISTERED = ("注意：本文件未在登记簿登记，不带可扫码核验的二维码；需扫码核验的公示或证明，请通过服务"
                "（minseal serve，网上办公）出具，登记后才带二维码")


def _render_per_village(ctx: typer.Context, family: str, data: Any, output: Path, *, docx: Path | None,
                        inputs: tuple[Path, ...]) -> None:
    """One notice per village (民发〔2021〕57号 art. 19), grouped by village id, each with its own 文号: every
    part is validated before any file is written."""
    from templates.notice_list import split_by_village

    service = _ctx(ctx).documents
    if service.catalogue.family(family).schema.root.child("households") is None:
        raise TemplateDataError([], f"「{family}」不是名单类公示，不能按村分开")
    parts = split_by_village(data if isinstance(data, dict) else {})
    if not parts:
        raise TemplateDataError([], "名单为空，没有可按村分开的公示")

    def named(path: Path, village: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "()（）-" else "_" for c in village)
        return path.with_name(f"{path.stem}-{safe}{path.suffix}")

    targets = [(village, named(output, village), named(docx, village) if docx else None) for village, _ in parts]
    check_output(*(p for _v, pdf, word in targets for p in (pdf, word) if p is not None), inputs=inputs)
    outs = [service.render(family, part, with_docx=docx is not None) for _village, part in parts]
    for (village, pdf_path, docx_path), out in zip(targets, outs, strict=True):
        write_atomic(pdf_path, out.rendered.pdf)
        if docx_path is not None and out.docx is not None:
            write_atomic(docx_path, out.docx)
        number = next(p for v, p in parts if v == village).get("notice_no")
        typer.echo(f"已生成 {pdf_path}（{village}，{number + '，' if number else ''}{out.rendered.page_count} 页）")
    typer.echo(UNREGISTERED)


#: ``init-demo --sm2`` / ``demo --sm2``: an SM2 root and SM2 seals (the root remembers it for later commands)
Sm2Option = Annotated[bool, typer.Option(
    "--sm2", help="用 SM2/SM3 建立根证书、时间戳服务和各单位印章（仅新安装；此后各命令按根证书自动使用 SM2）")]


def _choose_sm2(services: Services, sm2: bool) -> None:
    """``--sm2``: the algorithm init-demo makes the root and every seal with; persisted by the root itself."""
    if sm2:
        services.settings.key_algorithm = "sm2-sm3"


@app.command("demo")
def demo_cmd(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="输出目录")] = Path("out"),
    serve: Annotated[bool, typer.Option("--serve", help="演示后启动服务，打印网上办公地址和演示用户密码文件")] = False,
    port: Annotated[int, typer.Option("--port", help="--serve 时的端口")] = 8000,
    sm2: Sm2Option = False,
) -> None:
    """演示：建立单位名录、根证书和各单位印章，排版各类文书，并按村→乡镇→县的顺序用印。"""
    from api.cli.demo import run_demo

    services = _ctx(ctx)
    _choose_sm2(services, sm2)
    if serve and "public_base_url" not in services.settings.model_fields_set:
        # the QR codes the demo's register prints must open on the service --serve leaves running
        services.settings.public_base_url = f"http://127.0.0.1:{port}"
    run_demo(services, out, typer.echo)
    if serve:
        from api.cli.demo import serve_desk

        serve_desk(_ctx(ctx).settings, typer.echo, port=port)


register_service_commands(app, _ctx)
register_batch_commands(app, _ctx)

seals_app = typer.Typer(help="单位印章：列出、签发、更换、吊销；登记正式电子印章", no_args_is_help=True)
app.add_typer(seals_app, name="seals")
register_official_commands(seals_app, _ctx)


@app.command("init-demo")
def init_demo_cmd(ctx: typer.Context, sm2: Sm2Option = False) -> None:
    """建立演示单位名录（曲阳县民政局及其乡镇、村）、根证书、各单位密钥与印章证书、印章图片和吊销列表；可重复运行。"""
    c = _ctx(ctx)
    _choose_sm2(c, sm2)
    statuses = c.authority.init_demo(_seal_font())
    typer.echo(f"演示数据目录 {c.settings.data_dir.resolve()}，密钥目录 {c.settings.keys_dir.resolve()}")
    typer.echo(f"根证书 {c.authority.root_cert_path}，吊销列表 {c.authority.crl_path}")
    if c.authority.is_sm2():
        typer.echo("算法 SM2/SM3：根证书、时间戳服务和各单位印章均为 SM2，私钥在 SM2 密钥文件中（见 docs/sm2.md）")
    for st in statuses:
        store = st.record.key_store if st.record else st.office.key_store
        typer.echo(f"  {st.office.id:<14}{st.office.name:<12}\t{st.office.tier.label}\t{store:<22}"
                   f"{STATUS_LABELS[st.status]}")
    from api.services.demo_users import create_demo_users

    c.prepare()
    path, created = create_demo_users(c)
    typer.echo(f"演示用户：新建 {created} 个，密码在 {path}（仅本机可读）")


@seals_app.command("list")
def seals_list_cmd(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False,
) -> None:
    """每个单位一行：编号、名称、层级、密钥库（或印章来源：正式电子印章、远程签章服务）、状态。"""
    statuses = _ctx(ctx).authority.status()
    if as_json:
        typer.echo(json.dumps([s.to_dict() for s in statuses], ensure_ascii=False, indent=2))
        return
    for st in statuses:
        serial = st.record.serial if st.record else "-"
        store = st.record.key_store if st.record else st.office.key_store  # where the key is (SM2: sm2 files)
        kind = st.office.seal_provider.kind.value
        if kind != "minseal-ca":  # the seal comes from elsewhere: MinSeal's own certificate is not the one used
            store = {"official": "正式电子印章", "remote": "远程签章服务"}.get(kind, kind)
        typer.echo(f"{st.office.id}\t{st.office.name}\t{st.office.tier.value}\t{store}\t"
                   f"{STATUS_LABELS[st.status]}\t{serial}")


OfficeArg = Annotated[str, typer.Argument(help="单位编号（见 minseal seals list）")]
AlgorithmOption = Annotated[str | None, typer.Option(
    "--algorithm", help="ecdsa-p256（默认）或 rsa-2048；SM2 安装（init-demo --sm2）只用 sm2-sm3")]


@seals_app.command("issue")
def seals_issue_cmd(ctx: typer.Context, office: OfficeArg,
                    algorithm: AlgorithmOption = None) -> None:
    """为单位生成密钥并签发印章证书。"""
    record = _ctx(ctx).authority.issue(office, algorithm=algorithm, font=_seal_font())
    typer.echo(f"已签发：{record.office_id} 序列号 {record.serial}，有效期至 {record.not_after}")


@seals_app.command("renew")
def seals_renew_cmd(ctx: typer.Context, office: OfficeArg,
                    algorithm: AlgorithmOption = None) -> None:
    """更换印章：新密钥、新证书，旧证书以“已更换”吊销。"""
    record = _ctx(ctx).authority.renew(office, algorithm=algorithm, font=_seal_font())
    typer.echo(f"已更换：{record.office_id} 新序列号 {record.serial}")


@seals_app.command("revoke")
def seals_revoke_cmd(
    ctx: typer.Context,
    office: OfficeArg,
    reason: Annotated[str, typer.Option("--reason", help=f"原因：{', '.join(REASONS)}")],
) -> None:
    """吊销单位印章证书，并立即发布新的吊销列表。"""
    c = _ctx(ctx)
    record = c.authority.revoke(office, reason=reason)
    typer.echo(f"已吊销：{record.office_id} 序列号 {record.serial}，时间 {record.revoked_at}，"
               f"原因 {REASONS[reason][1]}；吊销列表已更新 {c.authority.crl_path}")


@seals_app.command("crl")
def seals_crl_cmd(ctx: typer.Context) -> None:
    """按证书台账重新签发并发布吊销列表（中断的更换或吊销之后也可用它补发）。"""
    from cryptography import x509

    c = _ctx(ctx)
    crl = c.authority.publish_crl()
    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    typer.echo(f"已发布吊销列表：编号 {number}，吊销 {len(list(crl))} 个证书，下次更新 "
               f"{crl.next_update_utc:%Y-%m-%d %H:%M} UTC → {c.authority.crl_path}")


@app.command("seal")
def seal_cmd(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="待用印的 PDF（由 MinSeal 生成）")],
    office: Annotated[str, typer.Option("--office", help="用印单位编号（见 minseal seals list）")],
    output: Annotated[Path, typer.Option("-o", "--output", help="输出 PDF 路径")],
    opinion: Annotated[str | None, typer.Option("--opinion", help="本级意见（表格类文书）")] = None,
    level: Annotated[str | None, typer.Option("--level", help="B-B、B-T、B-LT（默认）或 B-LTA")] = None,
    decision: Annotated[Path | None, typer.Option(
        "--decision", help="本级决定数据（JSON）：县级核定人数、类别、标准、差额、金额、起始月份；乡镇初审与公示期")] \
        = None,
) -> None:
    """以单位电子印章签署：首个印章为认证签名，上级单位在增量更新中会签。"""
    c = _ctx(ctx)
    check_output(output, inputs=(source, *((decision,) if decision else ())))
    pdf = read_input(source)
    ruling = read_json(decision) if decision is not None else None
    result = c.standalone_sealing.seal(pdf, office, opinion=opinion, level=level, decision=ruling,
                            deliver=lambda sealed: write_atomic(output, sealed))
    kind = "认证签名（首个印章）" if result.certified else "会签"
    typer.echo(f"已用印：{result.office.name}，{kind}，签名域 {result.field_name}，级别 {result.level.value}，"
               f"证书序列号 {result.serial} → {output}")
    if result.field_name == FIELD_PREFIX + "issuer":  # a notice or certificate, sealed outside the register
        typer.echo(UNREGISTERED)


@app.command("verify")
def verify_cmd(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="待校验的 PDF")],
    trust: Annotated[list[Path] | None, typer.Option("--trust", help="受信任的根证书（PEM/DER），可多次指定")] = None,
    expect_office: Annotated[list[str] | None, typer.Option(
        "--expect-office", help="必须盖章的单位（名称或编号），可多次指定")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出完整报告")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="把报告写成 HTML 页面")] = None,
    min_level: Annotated[str | None, typer.Option(
        "--min-level", help="最低签章级别：B-B、B-T（默认）、B-LT 或 B-LTA")] = None,
    crl: Annotated[list[Path] | None, typer.Option(
        "--crl", help="签发者当前的吊销列表（PEM/DER，下次更新前有效），可多次指定：如正式印章 CA 的")] = None,
) -> None:
    """校验文件中的全部电子签章；只有“通过”时退出码为 0。"""
    from signer.report import Verdict

    c = _ctx(ctx)
    check_output(html, inputs=(source,))
    pdf = read_input(source)
    if c.verification.is_case_file(pdf):
        _verify_case_file(c, pdf, roots=trust or [], expected=expect_office or [], min_level=min_level,
                          as_json=as_json, html=html, crls=crl or [])
        return
    report = c.verification.verify(pdf, roots=trust or [], expected_offices=expect_office or [], min_level=min_level,
                                   crls=crl or [])
    if html is not None:
        from api.http.report_page import report_html  # (jinja2: only for --html)

        write_atomic(html, report_html(report, standalone=True).encode())
    if as_json:
        typer.echo(report.to_json())
    else:
        typer.echo(report.summary())
        for s in report.signatures:
            typer.echo(f"  - {s.field_name}：{s.office_name}（{s.office_id}），时间戳 {s.timestamp_time or '无'}，"
                       f"{'完整' if s.intact else '已篡改'}，{'证书受信任' if s.trusted else '证书不受信任'}")
    if report.verdict is Verdict.FAILED:
        raise typer.Exit(EXIT_CODE[ErrorCategory.REFUSED])
    if report.verdict is Verdict.INDETERMINATE:
        raise typer.Exit(EXIT_CODE[ErrorCategory.INDETERMINATE])


#: ``minseal verify`` as an app of its own (the same command, registered twice): ``main`` runs it without building
#: the other commands, which every fresh verifying process would otherwise pay for (docs/benchmarks.md)
verify_app = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
verify_app.command("verify")(verify_cmd)


def _verify_case_file(c: Services, pdf: bytes, *, roots: list[Path], expected: list[str], min_level: str | None,
                      as_json: bool, html: Path | None, crls: list[Path]) -> None:
    """A 案卷: its own seal and every paper in it, one report; exits non-zero unless everything passes."""
    from signer.report import Verdict

    report = c.verification.verify_case_file(pdf, roots=roots, expected_offices=expected, min_level=min_level,
                                             crls=crls)
    if html is not None and report.outer is not None:
        from api.http.report_page import report_html

        write_atomic(html, report_html(report.outer, standalone=True).encode())
    if as_json:
        typer.echo(report.to_json())
    else:
        case = report.manifest.get("case") or {}
        heading = " · ".join(str(case[k]) for k in ("kind_label", "applicant_name", "village") if case.get(k))
        typer.echo(report.summary())
        if case:
            typer.echo(f"案卷：{heading}，案卷号 {case.get('number', '无')}；{report.manifest.get('exported_by', '')}"
                       f" 于 {str(report.manifest.get('exported_at', ''))[:10]} 导出")
        if report.outer is not None:
            typer.echo(f"案卷印章：{report.outer.summary()}")
        for number, paper in enumerate(report.papers, start=1):
            detail = "；".join(f.message for f in paper.findings)
            signatures = paper.report.signatures if paper.report is not None and not paper.findings else ()
            offices = "、".join(s.office_name or "未知单位" for s in signatures)
            typer.echo(f"  {number}. {paper.title}（{paper.name}）：{paper.label}"
                       + (f"。{detail}" if detail else (f"（{len(signatures)} 个签章：{offices}）" if offices else "")))
        for finding in report.findings:
            if finding.code == "CASE_FILE_UNLISTED" or finding.field is None:
                typer.echo(f"  - [{finding.code}] {finding.message}")
    if report.verdict is Verdict.FAILED:
        raise typer.Exit(EXIT_CODE[ErrorCategory.REFUSED])
    if report.verdict is Verdict.INDETERMINATE:
        raise typer.Exit(EXIT_CODE[ErrorCategory.INDETERMINATE])


def main(argv: list[str] | None = None) -> int:
    """Entry point: domain errors become a Chinese message on stderr and a stable exit code."""
    logs.configure()
    args = sys.argv[1:] if argv is None else list(argv)
    command, prog_name = app, "minseal"
    if args[:1] == ["verify"]:
        command, prog_name, args = verify_app, "minseal verify", args[1:]
    try:
        code = command(args=args, prog_name=prog_name, standalone_mode=False)
        if isinstance(code, int) and code:  # typer.Exit(n) comes back as a return value here
            return code
    except MinSealError as error:
        typer.echo(f"错误[{error.code}]：{error.message}", err=True)
        if isinstance(error, TemplateDataError):
            for problem in error.problems:
                typer.echo(f"  - {problem.path}：{problem.message}", err=True)
        if isinstance(error, VerificationRefusedError) and error.report:
            findings = error.report.get("findings")
            for finding in findings if isinstance(findings, list) else []:
                typer.echo(f"  - [{finding.get('code')}] {finding.get('message')}", err=True)
        return exit_code(error)
    except typer.Abort:
        return 1
    except typer.Exit as done:
        return int(done.exit_code)
    except Exception as error:  # click usage errors carry their own exit code
        code = getattr(error, "exit_code", None)
        if code is not None:
            show = getattr(error, "show", None)
            if callable(show):
                show()
            return int(code)
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
