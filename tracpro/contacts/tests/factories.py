import itertools
import uuid

from tracpro.contacts.models import Contact, DataField
from tracpro.groups.models import Region
from tracpro.orgs.models import Org

_phones = itertools.count(700000001)


def make_contact(
    org: Org, name: str = "Contact", region: Region | None = None, **fields
) -> Contact:
    fields.setdefault("uuid", str(uuid.uuid4()))
    fields.setdefault("urn", f"tel:+256{next(_phones)}")
    return Contact.objects.create(org=org, name=name, region=region, **fields)


def make_data_field(org: Org, key: str = "facility_code", **fields) -> DataField:
    fields.setdefault("label", key.replace("_", " ").title())
    return DataField.objects.create(org=org, key=key, **fields)


SWEEP_FACTORIES = {
    "contacts.Contact": make_contact,
    "contacts.DataField": make_data_field,
}
