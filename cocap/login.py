"""What the login throttling (django-axes) is told about a failed login."""

from axes.models import AccessAttempt

# The width of the column axes records the attempted username in. Login forms take longer usernames (none exists),
# which PostgreSQL would refuse to store: the login would answer 500 and mail the admins at every try.
USERNAME_MAX_LENGTH = AccessAttempt._meta.get_field("username").max_length


def attempt_username(request, credentials) -> str | None:
    """Return the username a login attempt tried, cut to the width axes stores."""
    username = (credentials or request.POST).get("username")
    return username[:USERNAME_MAX_LENGTH] if username else username
