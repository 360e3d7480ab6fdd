"""Hand-coding: samples to code, coding sheets, agreement between coders, final gold labels.

The loop, each step one function (and one ``python -m analysis annotate`` subcommand):

1. :func:`draw_sample` + :func:`assign_coders`: a stratified sample with known inclusion
   probabilities, part of it given to several coders;
2. :func:`write_sheets`: one coding sheet per coder (CSV, and XLSX with openpyxl), with the design
   (:func:`draw_sheets` runs steps 1 and 2 as ``annotate sample`` does);
3. :func:`read_sheets`: the filled sheets back as a long labels table, every problem listed;
4. :func:`measure_agreement`: Krippendorff's alpha with a bootstrap interval, Cohen's kappa per
   pair, per-label agreement, the disagreements to adjudicate;
5. :func:`adjudicate`: one final gold label per post, for training, evaluation and trend
   correction; :func:`estimate_label_shares` weights them back to the population.
"""

from analysis.annotate.adjudicate import adjudicate, attach_texts, check_resolutions
from analysis.annotate.agreement import (
    AgreementReport,
    alpha_from_counts,
    bootstrap_alpha,
    cohen_kappa,
    find_disagreements,
    krippendorff_alpha,
    measure_agreement,
    pairwise_kappa,
    per_label_agreement,
    reliability_matrix,
)
from analysis.annotate.sampling import (
    Sample,
    allocate,
    assign_coders,
    draw_sample,
    eligible_posts,
    estimate_label_shares,
    parse_coders,
    uncertainty_scores,
)
from analysis.annotate.sheets import (
    DrawnSheets,
    ImportResult,
    Problem,
    coding_rows,
    draw_sheets,
    format_problems,
    problems_table,
    read_design,
    read_sheets,
    write_sheets,
)

__all__ = [
    "AgreementReport", "DrawnSheets", "ImportResult", "Problem", "Sample", "adjudicate",
    "allocate", "attach_texts", "draw_sheets", "problems_table",
    "alpha_from_counts", "assign_coders", "bootstrap_alpha", "check_resolutions", "coding_rows",
    "cohen_kappa", "draw_sample", "eligible_posts", "estimate_label_shares", "find_disagreements",
    "format_problems", "krippendorff_alpha", "measure_agreement", "pairwise_kappa",
    "parse_coders", "per_label_agreement", "read_design", "read_sheets", "reliability_matrix",
    "uncertainty_scores", "write_sheets",
]
