"""What an operator does from a shell, through the same services and workflows as the API, with an audit row for
each change (actor `system`, label `cli:<login>`):

- `lendflow cob --until DATE`: close business dates up to DATE, with a progress bar (loans done of the date's total)
  that follows the running workflow; Ctrl-C leaves the run going, and the same command attaches to it again.
- `lendflow processes [--customer ID] [--loan ID] [--status S] [--type T] [--running]`: list processes by search
  attribute; `lendflow processes --cancel WORKFLOW_ID --reason TEXT` cancels one (an application through its own
  cancel, which compensates; any other process by Temporal's cancellation).
- `lendflow staff add EMAIL --role R [--project P]` (the password is read from the terminal or
  LENDFLOW_NEW_STAFF_PASSWORD), `lendflow staff disable EMAIL`, `lendflow staff reset-2fa EMAIL`.
- `lendflow report NAME [--date D] [--as-of D] [--out FILE]`: a staff report as CSV (services/reports.py builds it
  for the console's download too).
- `lendflow recalculation show ID` / `lendflow recalculation approve ID --as EMAIL`: a commission recalculation's
  differences, and their approval in the name of an accountant (through the recalculation's workflow, as the
  console approves it)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from datetime import date
from typing import Any

from config import Settings

ROLES = ("admin", "underwriter", "collector", "accountant", "support")


def _actor() -> Any:
    from store.repositories.audit import Actor

    return Actor("system", None, f"cli:{getpass.getuser()}")


def add_parsers(commands: Any) -> None:
    cob = commands.add_parser(
        "cob",
        help="close business dates up to a date, following the run with a progress bar",
        description="Starts close of business up to --until (or attaches to the run in progress) and shows, per "
        "date, loans done of the total. Changes: the ledger's accruals for each date closed. Ctrl-C detaches; the "
        "run goes on.",
    )
    cob.add_argument("--until", required=True, type=date.fromisoformat, help="the last business date to close")
    cob.set_defaults(handler=_cob)

    processes = commands.add_parser(
        "processes",
        help="find processes by customer, loan, status or type; cancel one",
        description="Lists workflows by lendflow's search attributes (read-only), or cancels one with --cancel "
        "(the workflow runs its own compensation, as when staff cancel from the console).",
    )
    processes.add_argument("--customer", help="a customer's user id")
    processes.add_argument("--loan", help="a loan id")
    processes.add_argument("--status", help="an application status (checking, manual_review, offered, ...)")
    processes.add_argument("--type", dest="workflow_type", help="a workflow type (LoanApplication, Loan, ...)")
    processes.add_argument("--running", action="store_true", help="only those still running")
    processes.add_argument("--cancel", metavar="WORKFLOW_ID", help="cancel this workflow")
    processes.add_argument("--reason", help="why (kept in the audit log); required with --cancel")
    processes.set_defaults(handler=_processes)

    staff = commands.add_parser(
        "staff",
        help="add a staff account, disable one, or reset its second factor",
        description="Changes staff accounts as an admin would in the console; each change ends the member's "
        "console sessions and is audited.",
    )
    staff.add_argument("action", choices=("add", "disable", "reset-2fa"))
    staff.add_argument("email")
    staff.add_argument("--role", action="append", choices=ROLES, default=[], help="with add (repeatable)")
    staff.add_argument("--project", action="append", default=[], help="with add: scope to a project (repeatable)")
    staff.set_defaults(handler=_staff)

    report = commands.add_parser(
        "report",
        help="export a staff report as CSV",
        description="Writes the report as the console downloads it (daily, portfolio, trial-balance, accountant, "
        "customers, cpa) to --out or standard output. Changes nothing but the audit log (an export of the books).",
    )
    report.add_argument("name", choices=("daily", "portfolio", "trial-balance", "accountant", "customers", "cpa"))
    report.add_argument("--date", type=date.fromisoformat, help="the business date (daily, accountant)")
    report.add_argument("--as-of", type=date.fromisoformat, help="the balances' date (trial-balance)")
    report.add_argument("--out", help="the CSV file to write (default: standard output)")
    report.set_defaults(handler=_report)

    recalculation = commands.add_parser(
        "recalculation",
        help="show a commission recalculation's differences, or approve them",
        description="show: per partner and period, what was paid, what should have been, the difference "
        "(read-only). approve: posts the differences in the open period through the recalculation's workflow, in "
        "the name of the accountant given by --as (if the numbers moved since the preview, nothing is posted and a "
        "new preview waits).",
    )
    recalculation.add_argument("action", choices=("show", "approve"))
    recalculation.add_argument("id", type=int)
    recalculation.add_argument("--as", dest="approver", help="with approve: the approving accountant's e-mail")
    recalculation.set_defaults(handler=_recalculation)


def query_for(customer: str | None, loan: str | None, status: str | None, kind: str | None, running: bool) -> str:
    """The visibility query the options describe (values quoted; the ids are checked to be plain tokens)."""
    parts = []
    for name, value in (
        ("LendflowCustomerId", customer),
        ("LendflowLoanId", loan),
        ("LendflowApplicationStatus", status),
        ("WorkflowType", kind),
    ):
        if value is not None:
            if not value.replace("-", "").replace("_", "").isalnum():
                raise SystemExit(f"not a plain value: {value!r}")
            parts.append(f'{name}="{value}"')
    if running:
        parts.append('ExecutionStatus="Running"')
    if not parts:
        raise SystemExit("name at least one of --customer, --loan, --status, --type, --running")
    return " AND ".join(parts)


def _processes(args: argparse.Namespace, settings: Settings) -> int:
    from temporalio.client import WorkflowExecutionStatus

    from contracts.origination import CancelRequest
    from workflows.client import connect_configured
    from workflows.loan_application import LoanApplicationWorkflow

    async def run() -> int:
        client = await connect_configured(settings)
        if args.cancel:
            if not args.reason:
                raise SystemExit("--cancel needs --reason")
            handle = client.get_workflow_handle(args.cancel)
            kind = (await handle.describe()).workflow_type
            if kind == "LoanApplication":
                # An application is withdrawn through its own cancel, which undoes what was done (the agreement
                # voided, the read model told); a bare Temporal cancel would leave the borrower's view behind.
                await handle.execute_update(
                    LoanApplicationWorkflow.cancel, CancelRequest(reason=args.reason, by=f"operator:{_actor().label}")
                )
            else:
                await handle.cancel()
            await _audit(settings, "process.cancelled", "workflow", args.cancel, {"reason": args.reason, "type": kind})
            print(f"cancelled {args.cancel} ({kind})")
            return 0
        query = query_for(args.customer, args.loan, args.status, args.workflow_type, args.running)
        count = 0
        async for found in client.list_workflows(query):
            status = found.status.name if isinstance(found.status, WorkflowExecutionStatus) else "?"
            print(f"{found.id}\t{found.workflow_type}\t{status}\t{found.start_time:%Y-%m-%d %H:%M}")
            count += 1
        print(f"{count} process(es) for {query}", file=sys.stderr)
        return 0

    return asyncio.run(run())


def _cob(args: argparse.Namespace, settings: Settings) -> int:
    from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

    from config.task_queues import Family
    from contracts.servicing import COB_RUNNER_ID, CobUntil
    from workflows.client import connect_configured
    from workflows.close_of_business import CobRunWorkflow

    async def run() -> int:
        client = await connect_configured(settings)
        handle = await client.start_workflow(
            CobRunWorkflow.run,
            CobUntil(until=args.until, parts=settings.cob_parts),
            id=COB_RUNNER_ID,
            task_queue=settings.queue_for(Family.SERVICING),
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,  # a run in progress: attach to it
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )
        await _audit(settings, "cob.run", None, None, {"until": args.until.isoformat()})
        return await follow(client, settings, handle)

    try:
        return asyncio.run(run())
    except KeyboardInterrupt:
        print("\ndetached; the run goes on (`lendflow cob --until ...` attaches again)")
        return 0


async def follow(client: Any, settings: Settings, handle: Any) -> int:
    from temporalio.client import WorkflowExecutionStatus

    from contracts.servicing import CobRunProgress
    from store.db import make_engine, make_session_factory
    from store.repositories import servicing
    from workflows.close_of_business import CobRunWorkflow

    engine = make_engine(settings.database_url or "")
    sessions = make_session_factory(engine)
    try:
        while True:
            running = (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
            progress: CobRunProgress = await handle.query(CobRunWorkflow.progress)
            current = progress.dates[progress.closed] if progress.closed < len(progress.dates) else None
            done = total = 0
            if current is not None:
                async with sessions() as session:
                    runs = {r["business_date"]: r for r in await servicing.cob_runs(session, limit=5)}
                    total = await servicing.loans_to_accrue(session, current)
                done = int(runs.get(current, {}).get("loans_accrued", 0))
            print("\r" + bar(progress.closed, len(progress.dates), current, done, total), end="", flush=True)
            if not running:  # the bar above is the run as it ended
                print()
                final = (await handle.describe()).status
                return 0 if final == WorkflowExecutionStatus.COMPLETED else 1
            await asyncio.sleep(1)
    finally:
        await engine.dispose()


def bar(closed: int, dates: int, current: date | None, done: int, total: int, width: int = 30) -> str:
    """`[#######.......] 3/10 dates · 2026-12-04: 4,120/20,000 loans`"""
    filled = int(width * closed / dates) if dates else width
    line = f"[{'#' * filled}{'.' * (width - filled)}] {closed}/{dates} dates"
    if current is not None:
        line += f" · {current.isoformat()}: {done:,}/{total:,} loans"
    return line


def _staff(args: argparse.Namespace, settings: Settings) -> int:
    from api.security.passwords import hash_password
    from services.staff_accounts import change_member
    from store.db import make_engine, make_session_factory
    from store.repositories.identity import add_staff_member, staff_by_email

    async def run() -> int:
        engine = make_engine(settings.database_url or "")
        try:
            async with make_session_factory(engine).begin() as session:
                if args.action == "add":
                    if not args.role:
                        raise SystemExit("add needs at least one --role")
                    password = os.environ.get("LENDFLOW_NEW_STAFF_PASSWORD") or getpass.getpass("password: ")
                    if len(password) < 12:
                        raise SystemExit("the password must have at least 12 characters")
                    member = await add_staff_member(
                        session,
                        email=args.email,
                        password_hash=hash_password(password),
                        roles=sorted(set(args.role)),
                        projects=sorted(set(args.project)),
                    )
                    if member is None:
                        raise SystemExit(f"{args.email} already has an account")
                    details: dict[str, Any] = {"email": member.email, "roles": member.roles}
                    await _record(session, "staff.member_added", str(member.id), details)
                    print(f"added {member.email} ({', '.join(member.roles)})")
                    return 0
                found = await staff_by_email(session, args.email)
                if found is None:
                    raise SystemExit(f"no staff account {args.email}")
                changed = await change_member(
                    session,
                    found.id,
                    active=False if args.action == "disable" else None,
                    reset_second_factor=args.action == "reset-2fa",
                )
                assert changed is not None
                details = {"before": changed.before, "after": changed.after, "action": args.action}
                await _record(session, "staff.member_changed", str(found.id), details)
                print(f"{args.action}: {found.email}")
                return 0
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from services.reports import build_report, csv_text
    from store.db import make_engine, make_session_factory

    async def run() -> str:
        engine = make_engine(settings.database_url or "")
        try:
            async with make_session_factory(engine).begin() as session:
                found = await build_report(
                    session,
                    args.name,
                    timezone=settings.market_timezone,
                    on=args.date,
                    as_of=args.as_of,
                    limit=100_000,
                )
                details = {"report": args.name, "for": found.day.isoformat(), "lines": len(found.lines)}
                await _record(session, "report.export", None, details)
                return csv_text(found.lines)
        finally:
            await engine.dispose()

    text = asyncio.run(run())
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        print(f"{args.name}: {text.count(chr(10)) - 1} lines written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _recalculation(args: argparse.Namespace, settings: Settings) -> int:
    from temporalio.client import WorkflowUpdateFailedError

    from contracts.commissions import ApproveRecalculation, recalculation_workflow_id
    from store.db import make_engine, make_session_factory
    from store.repositories import affiliate, commissions
    from store.repositories.identity import staff_by_email
    from workflows.client import connect_configured
    from workflows.commissions import CommissionRecalculationWorkflow

    async def run() -> int:
        engine = make_engine(settings.database_url or "")
        try:
            async with make_session_factory(engine)() as session:
                found = await commissions.recalculation(session, args.id)
                if found is None:
                    raise SystemExit(f"no recalculation {args.id}")
                project = next(p for p in await affiliate.projects(session) if p.id == found.project_id)
                rows = await commissions.preview_of(session, args.id)
                approver = await staff_by_email(session, args.approver) if args.approver else None
        finally:
            await engine.dispose()
        print(
            f"recalculation {found.id} of {project.code}: partner {found.partner_id}, {found.cause}, from "
            f"{found.valid_from:%Y-%m-%d}, {found.status}; {found.events} events, total {found.total} "
            f"{project.currency} (minor units)"
        )
        print("partner\tperiod\tpaid\tshould_be\tdifference")
        for row in rows:
            print(f"{row.partner_id}\t{row.period}\t{row.paid}\t{row.should_be}\t{row.amount}")
        if args.action == "show":
            return 0
        if approver is None or not approver.active or not {"accountant", "admin"} & set(approver.roles):
            raise SystemExit("approve needs --as the e-mail of an active accountant (or admin)")
        if approver.projects and project.code not in approver.projects:
            raise SystemExit(f"{approver.email} does not work on {project.code}")
        if found.status != "previewed":
            raise SystemExit(f"the recalculation is {found.status}, not waiting for approval")
        client = await connect_configured(settings)
        handle = client.get_workflow_handle(recalculation_workflow_id(args.id))
        try:
            outcome = await handle.execute_update(
                CommissionRecalculationWorkflow.approve, ApproveRecalculation(staff_id=str(approver.id))
            )
        except WorkflowUpdateFailedError as failure:
            raise SystemExit(f"not approved: {failure.cause}") from failure
        await _audit(
            settings,
            "recalculation.approve",
            "recalculation",
            str(args.id),
            {"status": outcome.status, "total": outcome.total, "approver": approver.email},
        )
        print(f"approved as {approver.email}: {outcome.status}, total {outcome.total}")
        return 0

    return asyncio.run(run())


async def _record(session: Any, action: str, target_id: str | None, details: dict[str, Any]) -> None:
    from store.repositories.audit import AuditContext, AuditEntry, record_audit

    entry = AuditEntry(action, "staff" if target_id else None, target_id, "ok", {**details, "via": "cli"})
    await record_audit(session, _actor(), entry, AuditContext())


async def _audit(
    settings: Settings, action: str, kind: str | None, target: str | None, details: dict[str, Any]
) -> None:
    from store.db import make_engine, make_session_factory
    from store.repositories.audit import AuditContext, AuditEntry, record_audit

    engine = make_engine(settings.database_url or "")
    try:
        async with make_session_factory(engine).begin() as session:
            entry = AuditEntry(action, kind, target, "ok", {**details, "via": "cli"})
            await record_audit(session, _actor(), entry, AuditContext())
    finally:
        await engine.dispose()
