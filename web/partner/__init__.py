"""The partner's office (/partner): earnings (today, the open period, closed periods as a chart and as CSV
statements), pending recalculations that would change them, the network as a genealogy tree with referral codes
and links, the payout destination and the commissions wallet."""

from __future__ import annotations

from web.partner.office import router

__all__ = ["router"]
