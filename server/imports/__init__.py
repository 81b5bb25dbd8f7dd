"""CSV export (every role, own scope) and customer import (admins) of issue 6."""
