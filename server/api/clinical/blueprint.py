"""The clinical blueprint the resources' modules add their routes to (one name and tag in the
API document, endpoints `clinical.<view>`)."""

from __future__ import annotations

from server.api.common import blueprint

blp = blueprint("clinical", "Dose plans, doses, diaries, lab results and blood tests")
