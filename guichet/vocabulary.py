"""The service's code lists with their French labels: what the database stores and what people read.

Pure data, no Flask and no SQLAlchemy: the rules (guichet/requests, guichet/doctors,
guichet/assignment), the forms and the pages all read their codes and labels here.
Status labels live with the workflow (guichet/workflow.py), priority flags with the
score (guichet/assignment/priority.py).
"""

from __future__ import annotations

#: kinds of request (PatientRequest.kind)
KIND_LABELS = {"mt": "Médecin traitant", "snp": "Soins non programmés"}
#: how a request reached the CPTS (PatientRequest.channel)
CHANNEL_LABELS = {"web": "En ligne", "phone": "Par téléphone", "import": "Liste de l'Assurance Maladie",
                  "partner": "Adressée par un partenaire"}

#: Patient.sex; "X" is also the answer of who prefers not to say
SEXES = {"F": "Femme", "M": "Homme", "X": "Autre ou ne souhaite pas répondre"}
#: who fills in the request (Patient.filled_by)
FILLED_BY = {
    "self": "La personne elle-même",
    "relative": "Un proche (famille, ami, voisin)",
    "professional": "Un professionnel pour elle (pharmacien, infirmier, travailleur social…)",
}
#: how the CPTS gets back to the patient (Patient.contact_preference)
CONTACT_PREFERENCES = {"phone": "Par téléphone", "email": "Par e-mail", "letter": "Par courrier"}

#: languages a patient may ask for and a GP may speak besides French (ISO 639-1 code → French
#: name): one list for both, so that they match
LANGUAGES = {
    "en": "Anglais",
    "ar": "Arabe",
    "de": "Allemand",
    "es": "Espagnol",
    "it": "Italien",
    "pt": "Portugais",
    "tr": "Turc",
    "ro": "Roumain",
    "ru": "Russe",
    "uk": "Ukrainien",
    "pl": "Polonais",
    "zh": "Chinois",
    "fsl": "Langue des signes française",
}

#: needs of a patient that a GP must accept (the matching engine's tags)
TAG_LABELS = {
    "children": "enfants",
    "home_visit": "visites à domicile",
    "step_free": "accès de plain-pied",
}

#: categories of an unscheduled-care request
SNP_CATEGORIES = {
    "fever": "Fièvre, état grippal",
    "pain": "Douleur (ventre, dos, oreille, dent…)",
    "infection": "Infection (urinaire, gorge, peau, yeux…)",
    "injury": "Petite blessure, entorse, brûlure légère",
    "skin": "Éruption, démangeaisons, allergie sans gêne respiratoire",
    "prescription": "Renouvellement d'un traitement qui ne peut pas attendre",
    "other": "Autre problème",
}
#: since when the problem lasts
SNP_SINCE = {
    "today": "Depuis aujourd'hui",
    "1-2_days": "Depuis 1 ou 2 jours",
    "3-7_days": "Depuis 3 à 7 jours",
    "more": "Depuis plus d'une semaine",
}
#: the days an unscheduled-care request may ask for
SNP_DAYS = {"today": "Aujourd'hui", "tomorrow": "Demain"}
#: the periods of those days the patient is available
SNP_PERIODS = {"morning": "le matin", "afternoon": "l'après-midi", "evening": "en fin de journée"}
#: the same periods in Paris local hours, [start, end): what a slot must start within
SNP_PERIOD_HOURS = {"morning": (8, 12), "afternoon": (12, 18), "evening": (18, 21)}

#: partner organisations (Partner.kind)
PARTNER_KINDS = {
    "hospital": "Établissement de santé (équipe de sortie d'hospitalisation)",
    "pharmacy": "Pharmacie",
    "social": "Service social",
    "sas": "Régulation du Service d'accès aux soins (SAS)",
}
#: what an API key may do (ApiKey.scope)
API_SCOPES = {"read": "Lecture", "write": "Lecture et envoi de demandes"}
#: why a referred patient is fragile (Referral.fragility_reason) and the usual target delay in days
FRAGILITY_REASONS = {
    "stroke": "Suites d'un accident vasculaire cérébral",
    "cardiac": "Suites d'un événement cardiaque",
    "heart_failure": "Insuffisance cardiaque",
    "fall": "Chute ou perte d'autonomie",
    "cancer": "Traitement d'un cancer",
    "other": "Autre fragilité signalée par l'équipe",
}
