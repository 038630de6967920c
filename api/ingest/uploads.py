"""`POST /v1/staff/projects/{code}/integrations/{name}/uploads`: a client's CSV file (the request body,
`Content-Type: text/csv`), uploaded by staff. The integration's mapping names the columns; each row is answered on
its own, exactly as pushed JSON events are, and a row sent before (its client id) is a duplicate."""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, Request

from api.constrained import PathName
from api.dependencies import Db, Resources, StaffAudit, StaffWith, require_project
from api.ingest.routes import nudge_if_realtime
from api.problems import Problem
from services.ingestion import MAX_EVENTS, IngestResult, take_events
from store.repositories import affiliate

router = APIRouter(prefix="/v1/staff/projects", tags=["client integrations"])


@router.post("/{code}/integrations/{name}/uploads", response_model=IngestResult)
async def upload(
    code: PathName,
    name: PathName,
    request: Request,
    staff: StaffWith("accountant"),
    db: Db,
    resources: Resources,
    audit: StaffAudit,
) -> IngestResult:
    require_project(staff, code)
    project = await affiliate.project_by_code(db, code)
    found = await affiliate.integration(db, project.id, name) if project else None
    if project is None or found is None or found.format != "csv":
        raise Problem(404, "not_found", "no such CSV integration")
    try:
        content = (await request.body()).decode("utf-8-sig")
        dialect = csv.Sniffer().sniff(content[:4096], delimiters=",;\t") if content.strip() else csv.excel
        rows = list(csv.DictReader(io.StringIO(content), dialect=dialect))
    except (UnicodeDecodeError, csv.Error) as err:
        raise Problem(422, "validation_error", f"the body is not a CSV file: {err}") from None
    if not rows:
        raise Problem(422, "validation_error", "the file has a header but no rows")
    if len(rows) > MAX_EVENTS:
        raise Problem(422, "validation_error", f"at most {MAX_EVENTS} rows per file")
    events = [{key: value for key, value in row.items() if key is not None} for row in rows]
    result = await take_events(db, project, found, events)
    await audit.record(
        "integration.upload",
        target_type="project",
        target_id=str(project.id),
        details={
            "integration": name,
            "rows": len(rows),
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "refused": result.refused,
        },
    )
    await nudge_if_realtime(db, resources, project, result)
    return result
