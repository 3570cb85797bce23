"""``minseal batch … | worker``: batch work from the command line (thin: parse, call, print).

On PostgreSQL ``batch`` puts the items on the queue and ``worker`` processes run them; on the embedded SQLite
database there is no queue and ``batch`` runs the items itself, in this process, with the same idempotent items.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.errors import EXIT_CODE
from signer.errors import ErrorCategory

if TYPE_CHECKING:  # imported when a command runs: `minseal verify` must not load SQLAlchemy or WeasyPrint
    from api.services.batches import BatchService
    from api.services.container import Services

batch_app = typer.Typer(help="批量任务：按案件批量出具证明、重新签章；查看进度", no_args_is_help=True)

AsUser = Annotated[str, typer.Option("--as", help="以该用户的身份办理（用户名，须为乡镇或县级单位人员）")]
Wait = Annotated[bool, typer.Option("--wait/--no-wait", help="等待完成并显示进度（PostgreSQL 下默认不等待）")]


def register(app: typer.Typer, services_of: Callable[[typer.Context], Services]) -> None:
    """``services_of``: the process's services (the CLI builds them once, in ``api/cli/main.py``)."""

    def services(ctx: typer.Context) -> Services:
        built = services_of(ctx)
        built.prepare()
        return built

    def start(ctx: typer.Context, kind: str, items_file: Path, username: str, family: str | None,
              wait: bool | None, after: Callable[[str], None] | None = None) -> str:
        """Record and run (SQLite) or enqueue (PostgreSQL) a batch; ``after(batch_id)`` runs once it has run here,
        before the report (which exits non-zero when an item failed)."""
        from api.services.batch_inputs import read_items
        from api.services.queue import enqueue
        from api.storage.engine import is_postgres

        s = services(ctx)
        runner = s.batches
        if kind in ("reseal", "case_files"):
            text = items_file.read_text("utf-8")
            items: list[object] = [line.strip() for line in text.splitlines() if line.strip()] \
                if items_file.suffix != ".json" else list(read_items(items_file))
        else:
            items = read_items(items_file)
        with s.db.session() as session:
            user = s.identity.user(session, username)
            who = runner.principal_of(session, user.id)
        batch_id = runner.create(who, kind, items, family=family)
        total = len(items)
        if is_postgres(s.db.url):
            enqueue(s.db.url, batch_id, runner.numbers(batch_id))
            typer.echo(f"批量任务 {batch_id} 已排队：共 {total} 项（由 minseal worker 进程办理）")
            if wait:
                _follow(runner, batch_id)
            return batch_id
        typer.echo(f"批量任务 {batch_id}：共 {total} 项（SQLite：在本进程中办理）")
        with typer.progressbar(length=total, label="办理中", file=sys.stderr) as bar:
            for number in runner.numbers(batch_id):
                runner.run_item(batch_id, number)
                bar.update(1)
        if after is not None:
            after(batch_id)
        _report(runner, batch_id)
        return batch_id

    @batch_app.command("certificates")
    def batch_certificates(ctx: typer.Context,
                           items: Annotated[Path, typer.Argument(
                               help="名单：JSON 列表或 CSV，每项写明 case_id（案件编号）或 id_number（身份证号码），"
                                    "可加 recipient（出具给）、purpose（用途）")],
                           username: AsUser,
                           family: Annotated[str | None, typer.Option(
                               "--family", help="模板（证明由案件生成，只能是 dibao_certificate）")] = None,
                           wait: Wait = False) -> None:
        """按名单为已审核确认的案件批量出具低保证明（数据取自县级审核确认的决定，盖本单位印章并登记）。"""
        start(ctx, "certificates", items, username, family, wait)

    @batch_app.command("reseal")
    def batch_reseal(ctx: typer.Context,
                     ids: Annotated[Path, typer.Argument(help="文书编号：每行一个，或 JSON 列表")],
                     username: AsUser, wait: Wait = False) -> None:
        """印章更换后，按原数据重新生成并签发（原文书关闭，新文书与之关联）。"""
        start(ctx, "reseal", ids, username, None, wait)

    @batch_app.command("case-files")
    def batch_case_files(ctx: typer.Context,
                         ids: Annotated[Path, typer.Argument(help="案件编号：每行一个，或 JSON 列表")],
                         username: AsUser,
                         out: Annotated[Path | None, typer.Option(
                             "--out", help="办完后把导出的案卷写入此目录（SQLite；PostgreSQL 请用 GET "
                                           "/api/batches/{id}/archive 下载）")] = None,
                         wait: Wait = False) -> None:
        """批量导出案卷：每个案件一份盖本单位印章的 PDF（卷内目录、全部盖章文件和扫描件作为附件、清单）。"""
        def write(batch_id: str) -> None:
            if out is None:
                return
            s = services(ctx)
            with s.db.session() as session:
                who = s.batches.principal_of(session, s.identity.user(session, username).id)
            _, files = s.batches.archive(who, batch_id)
            out.mkdir(parents=True, exist_ok=True)
            for name, data in files:
                (out / name).write_bytes(data)
            typer.echo(f"已写出 {len(files)} 份案卷 → {out}")

        start(ctx, "case_files", ids, username, None, wait, after=write)

    @batch_app.command("status")
    def batch_status(ctx: typer.Context, batch_id: str,
                     wait: Annotated[bool, typer.Option("--wait", help="等待完成并显示进度条")] = False,
                     as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出")] = False) -> None:
        """批量任务进度：已完成、失败、总数、预计剩余时间；失败项及原因。"""
        import json

        runner = services(ctx).batches
        if wait:
            _follow(runner, batch_id)
        if as_json:
            typer.echo(json.dumps(runner.progress(batch_id).to_dict(), ensure_ascii=False))
            return
        _report(runner, batch_id)

    @app.command("worker")
    def worker_cmd(ctx: typer.Context,
                   concurrency: Annotated[int, typer.Option("--concurrency", help="本进程同时办理的条目数")] = 1,
                   until_empty: Annotated[bool, typer.Option("--until-empty", help="队列空了就退出")] = False) -> None:
        """批量任务工作进程（PostgreSQL）：从队列取条目办理；每个 CPU 核运行一个。"""
        from api.services.queue import require_postgres, run_worker
        from api.storage.engine import database_url

        built = services_of(ctx)
        require_postgres(database_url(built.settings.database_url, built.settings.data_dir))
        run_worker(built, concurrency=concurrency, until_empty=until_empty,
                   on_start=lambda _s: typer.echo("工作进程已启动，等待批量任务……", err=True))

    app.add_typer(batch_app, name="batch")


def _follow(runner: BatchService, batch_id: str) -> None:
    """A progress bar until every item is done or failed."""
    progress = runner.progress(batch_id)
    shown = 0
    with typer.progressbar(length=progress.total, label="办理中", file=sys.stderr) as bar:
        while True:
            progress = runner.progress(batch_id)
            finished = progress.done + progress.failed
            bar.update(finished - shown)
            shown = finished
            if progress.finished:
                break
            time.sleep(0.5)


def _report(runner: BatchService, batch_id: str) -> None:
    p = runner.progress(batch_id)
    eta = f"，预计还需 {p.eta_seconds:.0f} 秒" if p.eta_seconds and not p.finished else ""
    rate = f"，{p.items_per_second:.2f} 项/秒" if p.items_per_second else ""
    typer.echo(f"批量任务 {p.id}：完成 {p.done}，失败 {p.failed}，共 {p.total}{rate}{eta}")
    for f in p.failures:
        typer.echo(f"  失败 第 {f.number} 项（{f.label}）：[{f.error_code}] {f.error}", err=True)
    if p.finished and p.failed:
        raise typer.Exit(EXIT_CODE[ErrorCategory.INVALID])
