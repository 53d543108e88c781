"""Who is proposed to whom: priority, problem builders, runs, review, arbitration, explanations."""
