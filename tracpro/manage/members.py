"""Org membership writes: adding, editing and removing an org's supervisors and admins.

A person has one account (their email) and a membership per org. Org admins
manage memberships of their own org; they change account fields (name, email,
password) only for accounts that belong to their org alone, so that nothing
they do reaches into another org.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from tracpro.accounts.models import User
from tracpro.groups.models import Region
from tracpro.orgs.models import Membership, Org, Role


class MembershipError(ValueError):
    """A change that would lock an org out (its last admin) or its author out."""


@dataclass(frozen=True)
class AccountChanges:
    full_name: str
    email: str
    password: str = ""
    must_change_password: bool = False


def can_edit_account(user: User, org: Org) -> bool:
    """Whether `org`'s admins may change this person's name, email and password."""
    if user.is_superuser:
        return False
    return not user.memberships.exclude(org=org).exists()


def add_member(
    org: Org,
    role: str,
    regions: Iterable[Region],
    account: AccountChanges,
) -> tuple[Membership, bool]:
    """Give `account.email` a role in `org`, creating the account if it is new.

    Returns the membership and whether an account was created. An existing
    account keeps its name and password.
    """
    with transaction.atomic():
        user = User.objects.filter(email__iexact=account.email).first()
        created = user is None
        if created:
            user = User.objects.create_user(
                account.email,
                account.password,
                full_name=account.full_name,
                must_change_password=account.must_change_password,
            )
        membership = Membership.objects.create(user=user, org=org, role=role)
        set_regions(membership, regions)
    return membership, created


def update_member(
    membership: Membership,
    role: str,
    regions: Iterable[Region],
    account: AccountChanges | None,
    acting_user: User,
) -> None:
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if role != membership.role:
            check_can_change_role(membership, acting_user)
        membership.role = role
        membership.save(update_fields=["role"])
        set_regions(membership, regions)
        if account is not None:
            update_account(membership.user, account)


def update_account(user: User, account: AccountChanges) -> None:
    user.full_name = account.full_name
    user.email = account.email
    user.must_change_password = account.must_change_password
    fields = ["full_name", "email", "must_change_password"]
    if account.password:
        user.set_password(account.password)
        fields.append("password")
    user.save(update_fields=fields)


def set_regions(membership: Membership, regions: Iterable[Region]) -> None:
    """Supervisors keep their regions; admins see everything, so they have none."""
    membership.regions.set(regions if membership.role == Role.SUPERVISOR else [])


def remove_member(membership: Membership, acting_user: User) -> None:
    """Take someone out of the org. Their account stays (they may work in other orgs)."""
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.user_id == acting_user.pk:
            raise MembershipError(_("You cannot remove yourself; ask another administrator."))
        if is_last_admin(membership):
            raise MembershipError(_("An organization needs at least one administrator."))
        membership.delete()


def check_can_change_role(membership: Membership, acting_user: User) -> None:
    if membership.user_id == acting_user.pk:
        raise MembershipError(_("You cannot change your own role; ask another administrator."))
    if is_last_admin(membership):
        raise MembershipError(_("An organization needs at least one administrator."))


def is_last_admin(membership: Membership) -> bool:
    if membership.role != Role.ADMIN:
        return False
    others = Membership.objects.filter(org=membership.org_id, role=Role.ADMIN)
    return not others.exclude(pk=membership.pk).exists()
