"""Partner apps (S1): registration, assignment to businesses, and their import door (``door``)."""
