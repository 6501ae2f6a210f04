"""Stage 02: study population, eligibility at index weeks, matched controls, balance, attrition."""
