"""What a customer's column headers mean: our fields, personal data, or the customer's own.

Customers write their asset lists by hand or export them from their own inventory, in Swedish
or English, with whatever punctuation and case they like ("Inv.nr", "Asset Tag", "S/N",
"Serienummer:"). Headers are compared after folding case and dropping everything but letters
and digits, so each synonym below is written once in that folded form.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum


class Role(StrEnum):
    """The field of an asset a column fills."""

    ASSET_TAG = "asset_tag"
    SERIAL = "serial"
    KIND = "kind"
    MAKE = "make"
    MODEL = "model"
    CUSTOMER_REF = "customer_ref"


# Folded header -> role. Dell's "Service Tag" is the machine's serial number, not an asset tag.
SYNONYMS: dict[str, Role] = {
    **dict.fromkeys(
        ("inventarienummer", "inventarienr", "invnr", "inventarie", "inventarieid",
         "tillgangsnummer", "tillgangsnr", "tillgangsid", "stoldskyddsnummer", "stoldmarkning",
         "assettag", "asset", "assetid", "assetnumber", "assetno", "assetnr", "tag",
         "propertynumber", "inventorynumber", "inventoryno"),
        Role.ASSET_TAG,
    ),
    **dict.fromkeys(
        ("serienummer", "serienr", "serial", "serialnumber", "serialno", "sn", "servicetag",
         "tillverkarserienummer"),
        Role.SERIAL,
    ),
    **dict.fromkeys(
        ("typ", "enhetstyp", "utrustningstyp", "produkttyp", "kategori", "type", "devicetype",
         "assettype", "category", "producttype"),
        Role.KIND,
    ),
    **dict.fromkeys(
        ("marke", "tillverkare", "fabrikat", "leverantor", "make", "manufacturer", "brand",
         "vendor"),
        Role.MAKE,
    ),
    **dict.fromkeys(
        ("modell", "modellnamn", "produkt", "model", "modelname", "product", "productname"),
        Role.MODEL,
    ),
    **dict.fromkeys(
        ("kundreferens", "kundref", "referens", "erreferens", "ertreferensnummer", "ref",
         "customerreference", "customerref", "reference", "yourreference", "yourref"),
        Role.CUSTOMER_REF,
    ),
}  # fmt: skip

# Headers that name personal data by themselves: the column is not stored whatever its values
# look like (user names such as "asve01" match no detector, yet point at a person).
PERSONAL_HEADERS: dict[str, str] = {
    **dict.fromkeys(
        ("namn", "fornamn", "efternamn", "name", "firstname", "lastname", "surname",
         "fullname", "anvandare", "anvandarnamn", "anvandarid", "user", "username", "userid",
         "anstalld", "medarbetare", "employee", "brukare", "innehavare", "holder", "owner",
         "agare", "ansvarig", "kontaktperson", "contactperson", "contact", "kontakt",
         "tilldelad", "assignedto", "utlamnadtill", "lastuser", "senasteanvandare"),
        "a person",
    ),
    **dict.fromkeys(("epost", "epostadress", "email", "emailaddress", "mail", "mejl"), "e-mail"),
    **dict.fromkeys(
        ("personnummer", "personnr", "pnr", "samordningsnummer", "ssn", "nationalid",
         "socialsecuritynumber"),
        "a personal identity number",
    ),
    **dict.fromkeys(
        ("telefon", "telefonnummer", "tel", "telnr", "mobil", "mobilnummer", "mobiltelefon",
         "phone", "phonenumber", "mobile", "mobilephone", "cellphone"),
        "a phone number",
    ),
    **dict.fromkeys(
        ("adress", "hemadress", "gatuadress", "postadress", "address", "homeaddress",
         "streetaddress"),
        "an address",
    ),
}  # fmt: skip


def fold(header: str) -> str:
    """A header reduced to lowercase ASCII letters and digits ("Märke:" -> "marke")."""
    decomposed = unicodedata.normalize("NFKD", header.casefold())
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum())


def role_of(header: str) -> Role | None:
    """Our field for a header, or None when the column is the customer's own."""
    return SYNONYMS.get(fold(header))


def personal_reason(header: str) -> str | None:
    """What personal data a header names ("e-mail", "a person"), or None."""
    return PERSONAL_HEADERS.get(fold(header))
