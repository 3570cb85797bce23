"""``minseal seals use-official`` and ``minseal seals demo-official``: an admin registers the office's official
seal (GB/T 38540) from the files its 电子印章制作管理单位 handed over, or makes demo stand-ins for them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from api.services.container import Services


def register(seals_app: typer.Typer, services: Callable[[typer.Context], Services]) -> None:
    """Adds the two commands to the ``seals`` group."""

    @seals_app.command("use-official")
    def use_official_cmd(
        ctx: typer.Context,
        office: Annotated[str, typer.Argument(help="单位编号（见 minseal seals list）")],
        ses_file: Annotated[Path, typer.Option("--ses", help="电子印章数据文件（GB/T 38540 SES_Seal，DER）")],
        key: Annotated[Path, typer.Option("--key", help="SM2 签名私钥（加密 PKCS#8，PEM 或 DER）")],
        passphrase_file: Annotated[Path, typer.Option("--passphrase-file", help="私钥口令文件（首行为口令）")],
        ca_root: Annotated[Path, typer.Option("--ca-root", help="签发制章者和签名证书的 CA 根证书（PEM 或 DER）")],
        ca_crl: Annotated[Path | None, typer.Option("--ca-crl", help="该 CA 的吊销列表（可选，DER 或 PEM）")] = None,
        cert: Annotated[Path | None, typer.Option(
            "--cert", help="签名证书（仅当电子印章只列出证书摘要时需要）")] = None,
    ) -> None:
        """登记并启用本单位的正式电子印章：校验文件后复制到本机密钥目录，名录中改用正式电子印章，并记入审计日志。"""
        from api.services.official_seals import OfficialFiles, register_official_seal

        c = services(ctx)
        done = register_official_seal(c.settings, c.authority, office, OfficialFiles(
            ses=ses_file, key=key, passphrase_file=passphrase_file, ca_root=ca_root, ca_crl=ca_crl, certificate=cert))
        typer.echo(f"已启用正式电子印章：{done.office.name}（{done.office.id}），印章「{done.seal_name}」"
                   f"编号 {done.es_id}，有效期至 {done.valid_end:%Y-%m-%d}，签名证书序列号 {done.cert_serial}")
        typer.echo(f"文件已复制到 {done.spec.ses_seal.parent}（口令 {done.spec.passphrase_file}）；"
                   f"名录 {c.settings.registry_path} 已更新")
        if done.spec.ca_crl is None:
            typer.echo("提示：未提供 --ca-crl，本机校验无法确认该单位签名证书的吊销状态（结果为“无法确定”）")
        for warning in done.warnings:
            typer.echo(warning)

    @seals_app.command("use-minseal-ca")
    def use_minseal_ca_cmd(
        ctx: typer.Context,
        office: Annotated[str, typer.Argument(help="单位编号（见 minseal seals list）")],
    ) -> None:
        """改回本系统自建CA印章（正式电子印章的文件仍保留在密钥目录中，可再次登记启用）。"""
        from api.services.official_seals import use_own_ca

        c = services(ctx)
        unit = use_own_ca(c.settings, c.authority, office)
        typer.echo(f"已改用本系统自建CA印章：{unit.name}（{unit.id}）；名录 {c.settings.registry_path} 已更新")

    @seals_app.command("demo-official")
    def demo_official_cmd(
        ctx: typer.Context,
        office: Annotated[str, typer.Argument(help="单位编号（见 minseal seals list）")],
        out: Annotated[Path | None, typer.Option(
            "--out", help="输出目录（默认 <数据目录>/demo-official/<单位编号>）")] = None,
    ) -> None:
        """生成演示用的“正式电子印章”替身文件（演示 SM2 根证书、演示制章者、单位证书、电子印章、加密私钥）。
        仅供演示和测试：不是电子印章制作管理单位制作的印章，没有法律效力。"""
        from api.services.documents import seal_font
        from api.services.official_seals import make_demo_official

        c = services(ctx)
        unit = c.authority.registry().get(office)
        target = out or c.settings.data_dir / "demo-official" / unit.id
        made = make_demo_official(unit, target, seal_font())
        typer.echo(f"已生成演示替身文件（非电子印章制作管理单位制作，无法律效力）→ {made.directory}")
        for label, path in (("电子印章", made.ses), ("加密私钥", made.key), ("口令文件", made.passphrase_file),
                            ("签名证书", made.certificate), ("演示 SM2 根证书", made.ca_root),
                            ("吊销列表", made.ca_crl)):
            typer.echo(f"  {label}：{path}")
        typer.echo(f"启用：minseal seals use-official {unit.id} --ses {made.ses} --key {made.key} "
                   f"--passphrase-file {made.passphrase_file} --ca-root {made.ca_root} --ca-crl {made.ca_crl}")
