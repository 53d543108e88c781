"""The GP's practice details (address, phone, booking link): one form, edited by the GP and by staff."""

from __future__ import annotations

from flask import flash, redirect, render_template
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import StringField, TelField, URLField
from wtforms.validators import DataRequired, Length, Optional

from guichet.doctors import practitioners
from guichet.models import Doctor
from guichet.web.access import current_user_record
from guichet.web.session import get_session, request_now


class PracticeForm(FlaskForm):
    practice_address = StringField(
        "Adresse du cabinet",
        validators=[DataRequired("Indiquez l'adresse du cabinet."),
                    Length(max=250, message="L'adresse fait au plus 250 caractères.")],
        description="Numéro et rue, par exemple 2 place de l'Église. La commune ne change pas ici.",
    )
    phone = TelField(
        "Téléphone du cabinet (facultatif)",
        validators=[Optional(), Length(max=30, message="Le numéro est trop long.")],
        description="Donné aux patients que vous acceptez ou qui ont un rendez-vous avec vous.",
    )
    booking_url = URLField(
        "Page de prise de rendez-vous en ligne (facultatif)",
        validators=[Optional(), Length(max=300, message="Le lien fait au plus 300 caractères.")],
        description="Par exemple https://www.doctolib.fr/… ; les patients acceptés la reçoivent.",
    )


def edit_practice(doctor: Doctor, *, template: str, done_url: str) -> ResponseReturnValue:
    """GET shows the form filled with the current values; a valid POST saves and goes to done_url."""
    form = PracticeForm(obj=doctor)
    if form.validate_on_submit():
        db = get_session()
        details = practitioners.PracticeDetails(
            practice_address=form.practice_address.data or "", phone=form.phone.data,
            booking_url=form.booking_url.data,
        )
        try:
            changed = practitioners.update_practice(db, doctor, details, now=request_now(),
                                                    user_id=current_user_record().id)
        except practitioners.PracticeInvalid as exc:
            db.rollback()
            for name, message in exc.errors.items():
                getattr(form, name).errors.append(message)
        else:
            db.commit()
            flash("Les coordonnées du cabinet sont enregistrées." if changed else "Rien n'a changé.",
                  "success" if changed else "info")
            return redirect(done_url)
    return render_template(template, form=form, doctor=doctor)
