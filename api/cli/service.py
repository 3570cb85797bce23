"""``minseal serve | users … | audit verify | db upgrade``: the service's commands (thin: parse, call, print)."""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from api.errors import EXIT_CODE
from signer.errors import ErrorCategory

if TYPE_CHECKING:
    from api.services.container import Services

users_app = typer.Typer(help="用户：添加、列出、停用、创建 API 令牌", no_args_is_help=True)
audit_app = typer.Typer(help="审计日志（用印日志）", no_args_is_help=True)
db_app = typer.Typer(help="数据库", no_args_is_help=True)


def register(app: typer.Typer, services_of: Callable[[typer.Context], Services]) -> None:
    """``services_of``: the process's services (the CLI builds them once, in ``api/cli/main.py``)."""

    def services(ctx: typer.Context) -> Services:
        built = services_of(ctx)
        built.prepare()
        return built

    @app.command("serve")
    def serve_cmd(
        ctx: typer.Context,
        host: Annotated[str, typer.Option("--host", help="监听地址")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="端口")] = 8000,
        workers: Annotated[int, typer.Option("--workers", help="工作进程数")] = 1,
    ) -> None:
        """启动 HTTP 服务（接口文档见 /docs）。"""
        import uvicorn

        from api.cli.server import server_options

        built = services(ctx)  # migrate and import the registry once, before workers start
        uvicorn.run("api.http.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                    **server_options(built.settings))

    @users_app.command("add")
    def users_add(ctx: typer.Context, username: str, office: Annotated[str, typer.Option("--office")],
                  role: Annotated[str, typer.Option("--role", help="clerk / reviewer / approver / admin")],
                  password_stdin: Annotated[bool, typer.Option("--password-stdin", help="从标准输入读取密码")] = False,
                  ) -> None:
        """添加用户（密码从终端或标准输入读取，绝不出现在命令行上）。"""
        s = services(ctx)
        password = input() if password_stdin else getpass.getpass("密码：")
        with s.db.session() as session:
            row = s.identity.add_user(session, username=username, office_id=office, role=role, password=password)
        typer.echo(f"已添加用户 {row.username}（{row.office_id}，{row.role}）")

    @users_app.command("list")
    def users_list(ctx: typer.Context) -> None:
        s = services(ctx)
        with s.db.session() as session:
            for u in s.identity.users(session):
                typer.echo(f"{u.username}\t{u.office_id}\t{u.role}\t{'已停用' if u.disabled else '正常'}")

    @users_app.command("disable")
    def users_disable(ctx: typer.Context, username: str) -> None:
        s = services(ctx)
        with s.db.session() as session:
            s.identity.set_disabled(session, username, True, actor="cli")
        typer.echo(f"已停用 {username}")

    @users_app.command("token")
    def users_token(ctx: typer.Context, username: str,
                    name: Annotated[str, typer.Option("--name")] = "cli") -> None:
        """创建 API 令牌（只显示一次）。"""
        s = services(ctx)
        with s.db.session() as session:
            user = s.identity.user(session, username)
            token = s.identity.create_token(session, user.id, name, actor="cli")
        typer.echo(token)

    @audit_app.command("verify")
    def audit_verify(ctx: typer.Context,
                     as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """检查审计链：指出第一条被改动、删除或调换的记录。"""
        from api.storage.audit import verify_chain

        check = verify_chain(services(ctx).audit_rows())
        if as_json:
            typer.echo(json.dumps({"ok": check.ok, "rows": check.rows, "first_bad_seq": check.first_bad_seq,
                                   "problem": check.problem}, ensure_ascii=False))
        elif check.ok:
            typer.echo(f"审计链完整：共 {check.rows} 条")
        else:
            typer.echo(f"审计链被破坏：{check.problem}", err=True)
        if not check.ok:
            raise typer.Exit(EXIT_CODE[ErrorCategory.REFUSED])

    @db_app.command("upgrade")
    def db_upgrade(ctx: typer.Context) -> None:
        services(ctx)
        typer.echo("数据库已是最新结构")

    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")
    app.add_typer(db_app, name="db")

