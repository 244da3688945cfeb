"""The canonical pretty printer.

One command per line, continuation lines start with ``| ``, long argument lists are
wrapped and indented, keywords are lower case, one space after commas and around
binary operators, and only the parentheses the tree needs. Every comment is printed
once, next to the command or argument it is attached to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dqlbuild.ast.base import Comment, Node, get_private
from dqlbuild.ast.nodes import (
    Access,
    Align,
    Assign,
    Binary,
    Block,
    Boolean,
    Brace,
    Call,
    Command,
    Double,
    Duration,
    FieldRef,
    In,
    Long,
    Named,
    Null,
    Query,
    Sorted,
    String,
    Unary,
    Variable,
)
from dqlbuild.printing import precedence
from dqlbuild.printing.doc import (
    BREAK_PARENT,
    HARDLINE,
    LINE,
    SOFTLINE,
    Doc,
    Group,
    Nest,
    Trailing,
    render,
)
from dqlbuild.syntax.collector import collector_paused
from dqlbuild.syntax.lexical import can_be_triple_quoted, code_only, encode_name, encode_string

# Returns the exact source text of a node that must be reprinted as it was, else None.
Verbatim = Callable[[Node], "str | None"]


def literal_text(node: Node) -> str:
    """The canonical text of a literal or other leaf node."""
    if isinstance(node, String):
        if node.style == "triple" and can_be_triple_quoted(node.value):
            return f'"""{node.value}"""'
        return encode_string(node.value)
    if isinstance(node, Long):
        # Beyond the signed range only hexadecimal is a valid long (0x8000... to 0xFFFF...).
        return str(node.value) if node.value < 2**63 else hex(node.value)
    if isinstance(node, Double):
        text = repr(node.value)
        if "e" in text:  # 1.5e-07 -> 1.5e-7, 1e+16 -> 1e16
            mantissa, exponent = text.split("e")
            text = f"{mantissa}e{int(exponent)}"
        return text
    if isinstance(node, Duration):
        return f"{node.value}{node.unit}"
    if isinstance(node, Boolean):
        return "true" if node.value else "false"
    if isinstance(node, Null):
        return "null"
    if isinstance(node, FieldRef):
        return encode_name(node.name)
    if isinstance(node, Variable):
        return f"${node.name}:{node.modifier}" if node.modifier else f"${node.name}"
    raise TypeError(f"not a leaf node: {type(node).__name__}")


def comment_text(comment: Comment) -> str:
    text = comment.text
    # An unterminated block comment is only valid at the very end of a query; closed
    # here so that text printed after it cannot be swallowed.
    if text.startswith("/*") and (len(text) < 4 or not text.endswith("*/")):
        text = text + " */"
    return text


class Printer:
    """Builds documents for nodes. ``verbatim`` lets the lossless printer splice in the
    original text of untouched nodes."""

    def __init__(self, *, indent: int = 2, verbatim: Verbatim | None = None) -> None:
        self.indent = indent
        self.verbatim = verbatim

    # ------------------------------------------------------------------ entry points
    def query(self, query: Query) -> Doc:
        # A fragment parsed from `| a | b` keeps its leading pipe.
        lead = bool(get_private(query, "leading_pipe"))
        return self.commands(query.commands, top=True, lead=lead)

    def commands(self, commands: Sequence[Command], *, top: bool, lead: bool = False) -> Doc:
        parts: list[Doc] = []
        carried: list[Comment] = []
        for i, command in enumerate(commands):
            before, after = _split(command.comments)
            command_doc, hoisted = self._command(command)
            if i:
                parts.append(HARDLINE if top else LINE)
            for c in [*carried, *before]:
                parts.extend([comment_text(c), HARDLINE])
            if i or lead:
                parts.append("| ")
            parts.append(command_doc)
            inline, carried = _inline_part([*hoisted, *after])
            parts.extend(_trailing(inline))
        for c in carried:
            parts.extend([HARDLINE, comment_text(c)])
        return parts

    def command(self, command: Command) -> Doc:
        doc, hoisted = self._command(command)
        return [doc, *_trailing(hoisted)] if hoisted else doc

    def _command(self, command: Command) -> tuple[Doc, list[Comment]]:
        """The command, and the comments trailing its last argument: those belong at the
        end of the command's line, where a re-parse would attach them to the command."""
        text = self._verbatim(command)
        if text is not None:
            return text, []
        if not command.args:
            return command.name, []
        args, hoisted = self.args(command.args, hoist_last=True)
        return Group([command.name, " ", Nest(2 * self.indent, args)]), hoisted

    def args(self, args: Sequence[Node], *, hoist_last: bool = False) -> tuple[Doc, list[Comment]]:
        """Arguments separated by commas, each with its comments.

        Comments after an argument stay on its line up to the first line comment; the
        ones on later lines are printed before the next argument, where a re-parse
        attaches them, so that formatting is idempotent.
        """
        parts: list[Doc] = []
        last = len(args) - 1
        carried: list[Comment] = []
        hoisted: list[Comment] = []
        for i, arg in enumerate(args):
            before, after = _split(arg.comments)
            for c in [*carried, *before]:
                parts.extend([comment_text(c), HARDLINE if c.is_line_comment else " "])
            parts.append(self.expr(arg, precedence.ANY, with_comments=False))
            if i < last:
                parts.append(",")
                inline, carried = _inline_part(after)
                parts.extend(_trailing(inline))
                parts.append(LINE)
            elif hoist_last:
                hoisted = after
            else:
                parts.extend(_trailing(after))
        return parts, hoisted

    # ------------------------------------------------------------------ expressions
    def expr(self, node: Node, required: int, *, with_comments: bool = True) -> Doc:
        text = self._verbatim(node)
        if text is not None:
            doc: Doc = text
            needs_parens = precedence.level(node) < required and not parenthesized(text)
        else:
            doc = self._expr(node)
            needs_parens = precedence.level(node) < required
        if needs_parens:
            doc = ["(", doc, ")"]
        if with_comments and node.comments and text is None:
            doc = self._with_comments(node.comments, doc)
        return doc

    def _with_comments(self, comments: Sequence[Comment], doc: Doc) -> Doc:
        before, after = _split(comments)
        parts: list[Doc] = []
        for c in before:
            parts.extend([comment_text(c), HARDLINE if c.is_line_comment else " "])
        parts.append(doc)
        parts.extend(_trailing(after))
        if after and after[-1].is_line_comment:
            parts.append(HARDLINE)
        return parts

    def _expr(self, node: Node) -> Doc:
        if isinstance(node, Binary):
            return self._binary(node)
        if isinstance(node, Unary):
            operand = self.expr(node.operand, precedence.required_level(node, "operand"))
            return ["not ", operand] if node.op == "not" else ["-", operand]
        if isinstance(node, Call):
            return self._bracketed(f"{node.name}(", self.args(node.args)[0], ")")
        if isinstance(node, Align):
            if node.operand is None:
                return f"@{node.unit}"
            return [self.expr(node.operand, precedence.ALIGN), f"@{node.unit}"]
        if isinstance(node, In):
            operand = self.expr(node.operand, precedence.COMPARE)
            return [operand, " in ", self.expr(node.block, precedence.ANY)]
        if isinstance(node, Access):
            base = self.expr(node.base, precedence.POSTFIX)
            key = node.key
            if key is None:
                return [base, "[]"]
            if isinstance(key, int):
                return [base, f"[{key}]"]
            # Dotted record keys get backticks, as in DQL's own names for unassigned
            # accesses (`child_of[`dt.entity.x`]`); plain ones stay bare.
            text = encode_name(key)
            if "." in key and text == key:
                text = f"`{key}`"
            return [base, f"[{text}]"]
        if isinstance(node, Brace):
            return self._bracketed("{", self.args(node.items)[0], "}")
        if isinstance(node, Block):
            if not node.commands:
                return "[]"
            return self._bracketed("[", self.commands(node.commands, top=False), "]")
        if isinstance(node, Assign):
            return [encode_name(node.target), " = ", self.expr(node.value, precedence.ANY)]
        if isinstance(node, Named):
            return [node.name, ": ", self.expr(node.value, precedence.ANY)]
        if isinstance(node, Sorted):
            return [self.expr(node.expr, precedence.ANY), f" {node.direction}"]
        if isinstance(node, Command):
            return self.command(node)
        if isinstance(node, Query):
            return self.query(node)
        return literal_text(node)

    def _binary(self, node: Binary) -> Doc:
        op = node.op
        operands = node.operands
        doc = self.expr(operands[0], precedence.required_level(node, "operands", 0))
        later = precedence.required_level(node, "operands", 1)
        if precedence.BINARY_LEVELS[op] <= precedence.AND:
            # One group per operator, nested as the left fold reads: the first terms
            # that fit share a line, the rest break one per line.
            for operand in operands[1:]:
                doc = Group([doc, Nest(self.indent, [LINE, op, " ", self.expr(operand, later)])])
            return doc
        parts: list[Doc] = [doc]
        for operand in operands[1:]:
            parts.extend((f" {op} ", self.expr(operand, later)))
        return parts

    def _bracketed(self, opening: str, inner: Doc, closing: str) -> Doc:
        if inner == []:
            return opening + closing
        return Group([opening, Nest(self.indent, [SOFTLINE, inner]), SOFTLINE, closing])

    def _verbatim(self, node: Node) -> str | None:
        return self.verbatim(node) if self.verbatim is not None else None


def _inline_part(comments: Sequence[Comment]) -> tuple[list[Comment], list[Comment]]:
    """Split trailing comments: those that fit on the element's line (up to the first
    line comment), and the rest, which go on the lines before the next element."""
    for i, c in enumerate(comments):
        if c.is_line_comment:
            return list(comments[: i + 1]), list(comments[i + 1 :])
    return list(comments), []


def _trailing(comments: Sequence[Comment]) -> list[Doc]:
    """Comments after an element. A line comment ends its line: whatever follows it
    (another comment, the next element) must start a new line."""
    parts: list[Doc] = []
    for i, c in enumerate(comments):
        if i and comments[i - 1].is_line_comment:
            parts.append(HARDLINE)
        # A line comment ends the line, so it never counts against the width; a block
        # comment is text like any other.
        text = " " + comment_text(c)
        parts.append(Trailing(text) if c.is_line_comment else text)
    if comments and comments[-1].is_line_comment:
        parts.append(BREAK_PARENT)
    return parts


def _split(comments: Sequence[Comment]) -> tuple[list[Comment], list[Comment]]:
    before = [c for c in comments if c.placement == "before"]
    after = [c for c in comments if c.placement == "after"]
    return before, after


def parenthesized(text: str) -> bool:
    """Whether ``text`` is wholly enclosed in one pair of parentheses."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    code = code_only(text)
    depth = 0
    for i, ch in enumerate(code):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and i != len(code) - 1:
                return False
    return True


@collector_paused  # acyclic documents: see dqlbuild.syntax.collector
def format_node(node: Node, *, width: int = 100, indent: int = 2) -> str:
    """Canonical text of any node (a whole query, a command or an expression)."""
    printer = Printer(indent=indent)
    doc = printer.query(node) if isinstance(node, Query) else printer.expr(node, precedence.ANY)
    return render(doc, width)
