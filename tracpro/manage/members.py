"""Org membership writes: adding, editing and removing an org's supervisors and admins.

A person has one account (their email) and a membership per org. Org admins
manage memberships of their own org; they change account fields (name, email)
only for accounts that belong to their org alone, so that nothing they do
reaches into another org. Nobody chooses a password for someone else: a new
member, or an existing account whose password its owner never chose through a
link sent to their address, gets an invitation to choose one
(tracpro.accounts.invitations). So an admin of one org cannot create an account
for an address, keep its password, and wait for another org to add it.
"""

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from tracpro.accounts.invitations import send_added_notice, send_invitation
from tracpro.accounts.models import User
from tracpro.groups.models import Region
from tracpro.orgs.models import Membership, Org, Role


class MembershipError(ValueError):
    """A change that would lock an org out (its last admin) or its author out."""


@dataclass(frozen=True)
class AccountChanges:
    full_name: str
    email: str


class Added(enum.Enum):
    INVITED = "invited"  # a new account, or one whose password was not its owner's
    EXISTING = "existing"  # an account whose owner chose its password; they were told


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
    invited_by: User,
) -> tuple[Membership, Added]:
    """Give `account.email` a role in `org`, creating the account if it is new.

    A new account has no password until its owner follows the invitation. An
    existing account keeps its name; it keeps its password only if its owner
    chose it through a link sent to their address, and is invited otherwise.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email__iexact=account.email).first()
        if user is None:
            user = User.objects.create_user(account.email, None, full_name=account.full_name)
        if user.password_set_by_owner:
            added = Added.EXISTING
            transaction.on_commit(lambda: send_added_notice(user, org, invited_by))
        else:
            added = Added.INVITED
            forget_password(user)
            transaction.on_commit(lambda: send_invitation(user, org, invited_by))
        membership = Membership.objects.create(user=user, org=org, role=role)
        set_regions(membership, regions)
    return membership, added


def forget_password(user: User) -> None:
    """No password works (nor any session opened with one) until the owner chooses one."""
    user.set_unusable_password()
    user.password_set_by_owner = False
    user.must_change_password = False
    user.save(update_fields=["password", "password_set_by_owner", "must_change_password"])


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
            update_account(membership.user, account, acting_user, membership.org)


def update_account(user: User, account: AccountChanges, acting_user: User, org: Org) -> None:
    """Change a name or an address. A new address has not been confirmed by anyone:
    someone else's account must choose its password again through an invitation
    sent there; one's own (the form asked for the current password) keeps it."""
    new_email = account.email != user.email
    user.full_name = account.full_name
    user.email = account.email
    fields = ["full_name", "email"]
    if new_email:
        user.password_set_by_owner = False
        fields.append("password_set_by_owner")
    user.save(update_fields=fields)
    if new_email and user.pk != acting_user.pk:
        forget_password(user)
        transaction.on_commit(lambda: send_invitation(user, org, acting_user))


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
