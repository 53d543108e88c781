"""Forms of the partners' administration (shape only)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from guichet import vocabulary
from guichet.web.fields import choices


class PartnerForm(FlaskForm):
    name = StringField("Nom de l'organisation",
                       description="Par exemple : Centre hospitalier de Valence, service de gériatrie.",
                       validators=[DataRequired("Indiquez le nom de l'organisation."),
                                   Length(max=150, message="150 caractères au plus.")])
    kind = RadioField("Type d'organisation", choices=choices(vocabulary.PARTNER_KINDS.items()),
                      validators=[InputRequired("Choisissez le type d'organisation.")])


class PartnerUserForm(FlaskForm):
    full_name = StringField("Nom et prénom", validators=[DataRequired("Indiquez le nom de la personne."),
                                                         Length(max=150, message="150 caractères au plus.")])
    email = EmailField("Adresse e-mail professionnelle",
                       validators=[DataRequired("Indiquez l'adresse e-mail."),
                                   Length(max=254, message="254 caractères au plus.")])


class ApiKeyForm(FlaskForm):
    label = StringField("Logiciel qui utilisera la clé", description="Par exemple : logiciel de sortie du CH.",
                        validators=[DataRequired("Indiquez à quel logiciel cette clé est destinée."),
                                    Length(max=100, message="100 caractères au plus.")])
    scope = RadioField("Droits", choices=choices(vocabulary.API_SCOPES.items()), default="read",
                       validators=[InputRequired("Choisissez les droits de la clé.")])
