"""The password hasher of the portal: Argon2id at the setting OWASP recommends first."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
    """Argon2id with 19 MiB of memory, 2 passes and 1 lane: OWASP's minimum for Argon2id, its first choice.

    Every login pays one hash. Django's PBKDF2 (1,500,000 SHA-256 rounds) and its Argon2 defaults (100 MiB,
    8 lanes) each take 0.4 s or more here, so on 2 cores a morning's logins queued for seconds; this takes
    20 to 40 ms. Being memory-hard, Argon2id gives an attacker's GPUs far less of an edge than PBKDF2
    does. The stored hashes keep Django's name "argon2" and carry their own parameters: if these change,
    Django rehashes each password at its owner's next login.
    """

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
