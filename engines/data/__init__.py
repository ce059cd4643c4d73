"""Small real data sets for toy reproductions: `digits` (scikit-learn's 8x8 digits and
transformed variants, the "tasks" of merging and continual learning)."""
