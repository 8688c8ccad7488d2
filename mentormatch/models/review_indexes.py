"""Indexes the paged round review relies on (migration 0007_perf); kept apart like the report
indexes, so the review's needs stay in one place.

- proposal (round_id, score, id): a page of a round's proposals by score is read in index
  order (scanned backwards) and stops after the page - no scan and sort of every proposal.
"""

from __future__ import annotations

from sqlalchemy import Index

from .matching import Proposal

PROPOSAL_REVIEW = Index("ix_proposal_review", Proposal.round_id, Proposal.score, Proposal.id)
