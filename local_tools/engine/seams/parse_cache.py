"""Seam 22: a state machine definition is lexed and parsed once per text, not at every StartExecution."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from .base import Undo, patch, require_attr, require_source

# --- 22. Parse trees kept -----------------------------------------------------------------------------------------

PARSE_TREES_KEPT = 32

# What AmazonStateLanguageParser.parse does, in this order: the replacement repeats the first part (ANTLR) once per
# text and the last part (Preprocessor) every time.
_MOTO_STEPS = (
    "InputStream(definition)",
    "ASLLexer(input_stream)",
    "ASLParser(stream)",
    "parser.addErrorListener(syntax_error_listener)",
    "tree = parser.state_machine()",
    "raise ASLParserException(errors=errors)",
    "preprocessor = Preprocessor()",
    "program = preprocessor.visit(tree)",
    "return program, tree",
)


def install_parse_tree_cache() -> Undo:
    """Keep the ANTLR parse tree of each definition text (the last PARSE_TREES_KEPT texts).

    moto parses the definition at CreateStateMachine and again at every StartExecution; ANTLR's pure-Python runtime
    takes about half a second for the product's definition, more than a short execution itself. The parse tree
    depends only on the text and is only read afterwards, so it is shared; the evaluation components (moto's
    Program, which keeps per-execution state) are still built fresh from it for every call, as moto does. A text
    with syntax errors is not kept: it raises ASLParserException every time, as before.
    """
    seam = "AmazonStateLanguageParser.parse"
    from moto.stepfunctions.parser.asl.parse import asl_parser as parser_module

    parser_class = require_attr(seam, parser_module, "AmazonStateLanguageParser")
    original = require_attr(seam, parser_class, "parse")
    require_source(seam, original, _MOTO_STEPS)
    listener_class = require_attr(seam, parser_module, "SyntaxErrorListener")
    exception_class = require_attr(seam, parser_module, "ASLParserException")
    preprocessor_class = require_attr(seam, parser_module, "Preprocessor")
    # The names parse() itself uses, from its own module.
    input_stream, lexer_class, token_stream = (
        require_attr(seam, parser_module, name) for name in ("InputStream", "ASLLexer", "CommonTokenStream")
    )
    antlr_parser_class = require_attr(seam, parser_module, "ASLParser")

    trees: OrderedDict[str, Any] = OrderedDict()
    lock = threading.Lock()

    def parse_tree(definition: str) -> Any:
        with lock:
            tree = trees.get(definition)
            if tree is not None:
                trees.move_to_end(definition)
                return tree
        listener = listener_class()
        parser = antlr_parser_class(token_stream(lexer_class(input_stream(definition))))
        parser.removeErrorListeners()
        parser.addErrorListener(listener)
        tree = parser.state_machine()
        if listener.errors:
            raise exception_class(errors=listener.errors)
        with lock:
            trees[definition] = tree
            while len(trees) > PARSE_TREES_KEPT:
                trees.popitem(last=False)
        return tree

    def parse(definition: str) -> tuple[Any, Any]:
        tree = parse_tree(definition)
        return preprocessor_class().visit(tree), tree

    undo_parse = patch(parser_class, "parse", staticmethod(parse))

    def undo() -> None:
        undo_parse()
        trees.clear()

    return undo
