"""The command line: ``python -m analysis SUBCOMMAND ...``.

Each subcommand lives in its own module here with two functions: ``register(subparsers)`` adds
its parser, and ``run(args) -> int`` does the work by calling the package's public functions. This
module only wires them together and turns a :class:`~analysis.errors.UserError` into one line on
stderr and exit status 2, Ctrl-C into one line and exit status 130, and SIGTERM (``kill``,
``timeout``, a batch scheduler) into one line and exit status 143; on both signals the
temporary files and folders of the run are removed and no output is left half-written.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from analysis import __version__, errors
from analysis.errors import EXIT_USER_ERROR, UserError

if TYPE_CHECKING:
    import pandas as pd

    from analysis.classifiers.labelling import ModelInputs

#: Exit status after Ctrl-C and after SIGTERM (128 + the signal's number, as a shell reports).
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM
#: Exit status when stdout is a pipe whose reader has gone (128 + SIGPIPE, as a shell reports).
EXIT_BROKEN_PIPE = 141

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS = (
    "ingest", "label", "train", "evaluate", "trend", "plot", "reproduce", "annotate", "export",
)


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one ``error: ...`` line, as every other error
    of the CLI is, and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USER_ERROR, f"error: {message} (see '{self.prog} --help')\n")


class Note(UserWarning):
    """A remark on how a command reads its input (the columns a model was trained with, the
    card that corrects the labels): :func:`warnings_to_stderr` prints it as ``note: ...``."""


@contextlib.contextmanager
def warnings_to_stderr() -> Iterator[None]:
    """Print each warning raised in the block as one ``warning: ...`` line on stderr (a
    :class:`Note` as ``note: ...``), after the block and only if it succeeds, so that an error
    stays the only line (a message repeated word for word once), instead of Python's
    file-and-line form."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    shown = {(issubclass(item.category, Note), str(item.message)): None for item in caught}
    for note, message in shown:
        print(f"{'note' if note else 'warning'}: {message}", file=sys.stderr)


def build_parser() -> ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = ArgumentParser(
        prog="python -m analysis",
        description="Load, label and chart public responses on social media.",
    )
    parser.add_argument("--version", action="version", version=f"analysis {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND",
                                       parser_class=ArgumentParser)
    subparsers.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"analysis.commands.{name}")
        module.register(subparsers)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that cleanup runs as it does for Ctrl-C."""


def _terminate(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the cleanup short
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM)
    written: list = []
    try:
        if in_main_thread:
            signal.signal(signal.SIGTERM, _terminate)
        from analysis.io import recording_outputs

        with recording_outputs() as written:
            args = build_parser().parse_args(argv)
            status = int(args.func(args) or 0)
            sys.stdout.flush()  # a closed pipe shows here, inside the try
            return status
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:  # the reader went away (``... | head``): stop quietly, as cat does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, Terminated)
        print(f"{'terminated' if terminated else 'interrupted'}; {_written_note(written)}",
              file=sys.stderr)
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _written_note(written: list) -> str:
    """What an interrupted run left: each output is whole (new) or as it was. Outputs that are
    gone again (written into a staging folder that was then removed) do not count."""
    written = [path for path in written if path.exists()]
    if not written:
        return "no output was written"
    return (f"{len(written)} output(s) were written whole before it (the last: {written[-1]}); "
            "the others were not written")


def check_n_boot(n_boot: int) -> int:
    """``--n-boot`` when it is 0 (no interval) or at least :data:`~analysis.config.MIN_N_BOOT`,
    else a :class:`~analysis.errors.UserError` (:func:`analysis.errors.check_n_boot`)."""
    return errors.check_n_boot(n_boot, "--n-boot")


def model_inputs_note(model: str | None, table: pd.DataFrame, *, target: str | None,
                      text_col: str | None, target_col: str | None, context_col: str | None,
                      source: object) -> ModelInputs:
    """The fixed target, text, target and context columns to apply ``model`` (``--model``;
    None: no model, as ``evaluate --cv``) with to a table read from ``source``: those given,
    else those the model was trained with, each said in a :class:`Note` (call it inside
    :func:`warnings_to_stderr`, which prints a ``note:`` line once the command succeeds)
    (:func:`analysis.classifiers.labelling.model_inputs`, which :func:`label_posts
    <analysis.classifiers.labelling.label_posts>` applies too)."""
    from analysis.classifiers.labelling import model_inputs

    inputs, notes = model_inputs(model, table, target=target, text_col=text_col,
                                 target_col=target_col, context_col=context_col, source=source)
    for note in notes:
        warnings.warn(note, Note, stacklevel=2)
    return inputs


def fold_notes(card: dict, asked: int) -> None:
    """Say on stderr what limits a cross-validation's scores, from the ``cv_*`` fields of a model
    card (or of :func:`~analysis.classifiers.training.cross_validate`): fewer folds than the
    ``asked`` ones, folds that could not learn a label, and texts in several folds."""
    folds = card.get("cv_folds")
    if folds is None:
        return
    if folds < asked:
        print(f"note: {folds} folds, not {asked}: there are only {folds} groups",
              file=sys.stderr)
    unlearned = card.get("cv_labels_unlearned")
    if unlearned:
        why = ("each group holding them was held out whole" if card.get("cv_grouped") else
               f"with fewer rows than the {folds} folds, a label cannot be in every fold's "
               "training part, and the folds are not stratified")
        print(f"note: some folds trained without any row of {unlearned} ({why}); those folds "
              "cannot predict them, so their cross-validated scores understate a model trained "
              "on all rows", file=sys.stderr)
    shared = card.get("cv_texts_in_several_folds")
    if shared:
        advice = ("the copies are in different groups of the --group-col column: drop them, or "
                  "give each text's copies the same group there" if card.get("cv_grouped") else
                  "drop the copies or give them one group (--group-col)")
        print(f"note: {shared} rows have the same text as a row in another fold (retweets, "
              "copies); the cross-validated scores are inflated by them, as those folds are "
              f"scored on texts their models were trained on; {advice}", file=sys.stderr)


#: The largest ``--seed``: scikit-learn's ``random_state`` takes 0 to 2**32 - 1.
MAX_SEED = 2**32 - 1


def seed_number(text: str) -> int:
    """``--seed`` as argparse reads it (``type=seed_number``): a whole number from 0 to
    :data:`MAX_SEED`; anything else is a usage error (one line, exit status 2).

    >>> seed_number("20200930")
    20200930
    """
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {MAX_SEED}, "
                                         f"not {text!r}")
    return value


def column_name(text: str) -> str:
    """A column option as argparse reads it (``type=column_name``): an empty name is a usage
    error, not the option left out (``--target-col ''`` would drop the table's target column
    without a word).

    >>> column_name("parent_text")
    'parent_text'
    """
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty column name; name a column of the table")
    return text


def add_column_options(parser: argparse.ArgumentParser, *, trained: bool = False) -> None:
    """--text-col, --target-col, --target and --context-col, as train, evaluate and label read
    them (:func:`analysis.classifiers.labelling.posts_frame`); --target with --target-col is a
    usage error. With ``trained`` (label, evaluate: they apply a model), an option not given
    is None, for the column the model was trained with (:func:`model_inputs_note`)."""
    model = "the one the model was trained with, else " if trained else ""
    parser.add_argument("--text-col", default=None if trained else "text", type=column_name,
                        help=f"column with the text (default: {model}text)")
    targets = parser.add_mutually_exclusive_group()
    targets.add_argument("--target-col", default=None, type=column_name,
                         help=f"column with each row's target (default: {model}a 'target' "
                              "column, else for a posts table the thread root's text)")
    targets.add_argument("--target", default=None,
                         help="one fixed target for every row (not with --target-col)")
    parser.add_argument("--context-col", default=None, type=column_name,
                        help=f"column with the parent's text (default: {model}a 'context' "
                             "column, else for a posts table the parent's text)")
