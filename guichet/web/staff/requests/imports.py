"""Import of insurer lists of patients without médecin traitant: upload, preview, confirm.

Between the preview and the confirmation the uploaded file waits under instance/imports/,
named by territory and SHA-256: the confirmation imports exactly the file that was checked,
and nothing big travels in the session cookie.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from flask import current_app, flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from guichet.models import ImportBatch
from guichet.requests import insurer_import
from guichet.web.access import audit_list, current_territory, current_territory_id, current_user_record, deny
from guichet.web.security import staff_required
from guichet.web.session import get_session, request_now
from guichet.web.staff.blueprint import bp
from guichet.web.staff.requests.forms import ConfirmImportForm, UploadForm

SHA_RE = re.compile(r"^[0-9a-f]{64}$")
#: uploaded files older than this are removed at the next upload
KEEP_SECONDS = 24 * 3600


def _store() -> Path:
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _stored_file(sha: str) -> Path:
    if not SHA_RE.match(sha):
        deny("import_file")
    path = _store() / f"{current_territory_id()}-{sha}.csv"
    if not path.exists():
        deny("import_file")
    return path


def _prune(store: Path) -> None:
    # Files are stamped with the app clock when stored (below), so their age is measured
    # on the same clock as everything else.
    limit = request_now().timestamp() - KEEP_SECONDS
    for old in store.glob("*.csv"):
        if old.stat().st_mtime < limit:
            old.unlink(missing_ok=True)


def _batches() -> list[ImportBatch]:
    return list(get_session().scalars(
        select(ImportBatch).where(ImportBatch.territory_id == current_territory_id())
        .order_by(ImportBatch.created_dt.desc()).limit(20)
    ))


@bp.route("/import", methods=["GET", "POST"])
@staff_required
def import_upload() -> ResponseReturnValue:
    form = UploadForm()
    if form.validate_on_submit():
        data = form.file.data.read()
        filename = (form.file.data.filename or "liste.csv")[-200:]
        db = get_session()
        territory = current_territory()
        try:
            insurer_import.preview(db, territory, data, now=request_now())
        except insurer_import.ImportFileError as exc:
            form.file.errors = [str(exc)]
        else:
            store = _store()
            _prune(store)
            sha = insurer_import.file_sha256(data)
            stored = store / f"{current_territory_id()}-{sha}.csv"
            stored.write_bytes(data)
            stamp = request_now().timestamp()
            os.utime(stored, (stamp, stamp))
            names = dict(session.get("import_names", {}))
            names[sha] = filename
            session["import_names"] = dict(list(names.items())[-5:])
            return redirect(url_for("staff.import_preview", sha=sha))
    status = 422 if form.errors else 200
    return render_template("staff/import.html", form=form, batches=_batches(),
                           columns=insurer_import.COLUMNS), status


@bp.get("/import/<sha>")
@staff_required
def import_preview(sha: str) -> ResponseReturnValue:
    path = _stored_file(sha)
    db = get_session()
    territory = current_territory()
    started = time.perf_counter()
    try:
        report = insurer_import.preview(db, territory, path.read_bytes(), now=request_now())
    except insurer_import.ImportFileError as exc:
        flash(str(exc), "error")
        return redirect(url_for("staff.import_upload"))
    seconds = time.perf_counter() - started
    # the preview shows every listed person's name and birth date: no request exists yet, so
    # the row names the file (its hash) and how many people it shows
    audit_list("import.preview", [], file_sha256=sha, rows=len(report.rows))
    filename = session.get("import_names", {}).get(sha, "liste.csv")
    form = ConfirmImportForm(sha256=sha)
    return render_template("staff/import_preview.html", report=report, form=form, filename=filename,
                           seconds=seconds)


@bp.post("/import/<sha>/confirmer")
@staff_required
def import_confirm(sha: str) -> ResponseReturnValue:
    path = _stored_file(sha)
    form = ConfirmImportForm()
    if not form.validate_on_submit() or form.sha256.data != sha:
        flash("Le formulaire de confirmation est incomplet : recommencez l'import.", "error")
        return redirect(url_for("staff.import_upload"))
    db = get_session()
    territory = current_territory()
    filename = session.get("import_names", {}).get(sha, "liste.csv")
    try:
        batch = insurer_import.confirm(db, territory, path.read_bytes(), filename,
                                       now=request_now(), user_id=current_user_record().id)
    except insurer_import.AlreadyImported as exc:
        db.rollback()
        path.unlink(missing_ok=True)
        flash(str(exc), "error")
        return redirect(url_for("staff.import_upload"))
    except insurer_import.ImportFileError as exc:
        db.rollback()
        flash(str(exc), "error")
        return redirect(url_for("staff.import_upload"))
    db.commit()
    path.unlink(missing_ok=True)
    flash(
        f"Import terminé : {batch.n_imported} patient{'s' if batch.n_imported > 1 else ''} à appeler "
        f"ajouté{'s' if batch.n_imported > 1 else ''}, {batch.n_skipped} ligne"
        f"{'s' if batch.n_skipped > 1 else ''} ignorée{'s' if batch.n_skipped > 1 else ''}.",
        "success",
    )
    return redirect(url_for("staff.to_contact"))
