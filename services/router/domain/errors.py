"""Why a message was refused; the HTTP entrypoint maps each to its status code."""


class RoutingError(Exception):
    """Base: the message names something missing, forbidden or in the wrong state."""


class NotFound(RoutingError):
    pass


class Forbidden(RoutingError):
    pass


class Conflict(RoutingError):
    """The target is not in a state that allows this (e.g. an offer already expired)."""


class PolicyConflict(Conflict):
    """A new policy would strand waiting contacts (their queue, step or channel is gone)."""


class Invalid(RoutingError):
    """The message's content does not fit the routing policy (a 422)."""


class Unauthorized(RoutingError):
    pass


class UnknownDomain(NotFound):
    """No policy names this routing domain."""
