"""Reading notebook cells as Python: what a cell binds and what it reads (``test_notebook_exercises.py``)."""

from __future__ import annotations

import ast
import builtins
import symtable


def python_source(source: str) -> str:
    """The cell as Python source, IPython magics (``%matplotlib inline``) turned into calls."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def top_level_bindings(tree: ast.Module) -> set[str]:
    """Names a cell binds in the notebook's namespace (not the locals of its functions), from its parsed source."""
    names: set[str] = set()

    def targets(node):
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                names.add(sub.id)

    def visit(statements):
        for node in statements:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    targets(target)
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                targets(node.target)
                visit(node.body + node.orelse)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None:
                        targets(item.optional_vars)
                visit(node.body)
            elif isinstance(node, (ast.If, ast.While)):
                visit(node.body + node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body])
            elif isinstance(node, ast.Expr):
                for sub in ast.walk(node):  # walrus
                    if isinstance(sub, ast.NamedExpr):
                        targets(sub.target)

    visit(tree.body)
    return names


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
           ast.GeneratorExp)


def _loads_in_this_scope(node: ast.AST):
    """The names a statement reads in the notebook's own scope, in source order (nested scopes left out, except
    what they evaluate on the spot: decorators, defaults, annotations, base classes, a comprehension's first
    iterable)."""
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
        yield node.id
        return
    if isinstance(node, _SCOPES):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            arguments = node.args
            on_the_spot = [*arguments.defaults, *[d for d in arguments.kw_defaults if d is not None]]
            if not isinstance(node, ast.Lambda):
                on_the_spot += [*node.decorator_list, *[a.annotation for a in (*arguments.args, *arguments.kwonlyargs)
                                                        if a.annotation is not None]]
                on_the_spot += [node.returns] if node.returns is not None else []
        elif isinstance(node, ast.ClassDef):
            on_the_spot = [*node.decorator_list, *node.bases, *[k.value for k in node.keywords]]
        else:
            on_the_spot = [node.generators[0].iter]
        for child in on_the_spot:
            yield from _loads_in_this_scope(child)
        return
    for child in ast.iter_child_nodes(node):
        yield from _loads_in_this_scope(child)


def free_names(code: str) -> set[str]:
    """Names a cell reads from the notebook's namespace before it binds them itself, builtins excluded.

    At the top level the statements are followed in order, so ``f = check(f)`` reads the ``f`` of an earlier
    cell. Inside functions, lambdas, classes and comprehensions Python's own scope analysis (``symtable``) tells
    locals from globals; a global that the cell binds anywhere counts as its own there.
    """
    tree = ast.parse(code)
    names: set[str] = set()
    bound: set[str] = set()
    for statement in tree.body:
        names.update(name for name in _loads_in_this_scope(statement) if name not in bound)
        bound |= top_level_bindings(ast.Module(body=[statement], type_ignores=[]))

    def visit(table):
        for child in table.get_children():
            names.update(s.get_name() for s in child.get_symbols()
                         if s.is_referenced() and s.is_global() and s.get_name() not in bound)
            visit(child)

    visit(symtable.symtable(code, "<cell>", "exec"))
    return names - set(dir(builtins))
