"""mlcalc.expr: safe parsing of typed expressions into SymPy and differentiable NumPy."""

import subprocess
import sys

import numpy as np
import pytest

import mlcalc as mc
from mlcalc import expr as E
from mlcalc.testing import check_grads

sp = pytest.importorskip("sympy")

# Every allowlisted function appears at least once; points are drawn in [0.2, 0.8]^n,
# inside every function's domain.
EXPRESSIONS = [
    "x**2 + 3*y**2 - x*y",
    "sin(x)*exp(-y^2)",
    "cos(x*y) + tan(x/2)",
    "log(x + 1) * sqrt(y)",
    "abs(x - 2*y) + tanh(x*y)",
    "sinh(x) - cosh(y) + x^3/y",
    "arcsin(x) + arccos(y/2) + arctan(x*y)",
    "asin(x/2) * acos(y/3) - atan(x - y)",
    "log1p(x*y) + expm1(-x)",
    "sigmoid(3*x - y) + softplus(x - 2*y)",
    "erf(x*y) * pi + e^x",
    "x^y + y^(1/2) - 2^x - 1.5/x",
    "exp(a*b) * sin(c) / (1 + a^2)",
]


def _random_point(expr, seed):
    return np.random.default_rng(seed).uniform(0.2, 0.8, len(expr.variables))


def _subs(expr, point):
    return {s: sp.Float(float(v)) for s, v in zip(expr.symbols, point)}


def _offset_of_caret(err):
    lines = str(err).splitlines()
    return lines[-1].index("^") - 2


# ------------------------------------------------------------------- parsing and values


def test_parse_builds_sympy_and_orders_variables():
    f = E.parse("x**2 + 3*y**2 - x*y")
    x, y = sp.symbols("x y", real=True)
    assert f.variables == ("x", "y")
    assert f.symbols == (x, y)
    assert sp.expand(f.sympy - (x**2 + 3 * y**2 - x * y)) == 0
    assert f([1.0, 2.0]) == 11.0
    assert str(f) == str(f.sympy)


def test_variable_order_natural_and_given():
    assert E.parse("x10 + x2 + x1 + b").variables == ("b", "x1", "x2", "x10")
    f = E.parse("x - y", variables=("y", "x"))
    assert f.variables == ("y", "x")
    assert f([1.0, 5.0]) == 4.0
    assert E.parse("x*y", variables="y, x").variables == ("y", "x")
    g = E.parse("x**2", variables=["x", "y", "z"])
    np.testing.assert_array_equal(mc.grad(g.function)(np.array([3.0, 1.0, 1.0])), [6.0, 0, 0])


@pytest.mark.parametrize(
    "variables, error",
    [
        (["sin"], ValueError),
        (["pi"], ValueError),
        (["_a"], ValueError),
        (["x", "x"], ValueError),
        (["1x"], ValueError),
        (["lambda"], ValueError),
        ([3], TypeError),
    ],
)
def test_invalid_variables_argument(variables, error):
    with pytest.raises(error):
        E.parse("x", variables=variables)


def test_unknown_variable_when_variables_given():
    with pytest.raises(E.ExpressionError, match="unknown variable 'z'") as info:
        E.parse("x + z", variables="x y")
    assert info.value.offset == 4


@pytest.mark.parametrize(
    "text, expected",
    [
        ("x^2 + 1", lambda x, y: x**2 + 1),
        ("-y^2", lambda x, y: -(y**2)),
        ("2*x^3", lambda x, y: 2 * x**3),
        ("sin(x)*exp(-y^2)", lambda x, y: sp.sin(x) * sp.exp(-(y**2))),
        ("x^y^2", lambda x, y: x ** (y**2)),
        ("x ^ -1", lambda x, y: 1 / x),
    ],
)
def test_caret_is_power_with_power_precedence(text, expected):
    x, y = sp.symbols("x y", real=True)
    assert sp.simplify(E.parse(text).sympy - expected(x, y)) == 0


def test_constants_and_literals():
    f = E.parse("pi*x + e + 2.5e-1 + 1/4")
    x = sp.Symbol("x", real=True)
    assert f.sympy == sp.pi * x + sp.E + sp.Float(0.25) + sp.Rational(1, 4)
    assert f.variables == ("x",)
    assert f([1.0]) == pytest.approx(np.pi + np.e + 0.5, rel=1e-15)
    assert E.parse("e^x").sympy == sp.exp(x)


def test_whitespace_newlines_and_parenthesized_function():
    f = E.parse("  x\n+\ty  ")
    assert f.variables == ("x", "y") and f([1.0, 2.0]) == 3.0
    assert E.parse("(sin)(x)").sympy == sp.sin(sp.Symbol("x", real=True))


def test_constant_expression():
    f = E.parse("2^3 + 1")
    assert f.variables == () and f.sympy == 9
    assert f(np.zeros(0)) == 9.0
    np.testing.assert_array_equal(f.evaluate(np.zeros((3, 0))), [9.0, 9.0, 9.0])


def test_evaluate_batched_and_shapes():
    f = E.parse("sin(x)*exp(-y^2)")
    pts = np.random.default_rng(0).standard_normal((7, 2))
    out = f.evaluate(pts)
    assert out.shape == (7,)
    np.testing.assert_allclose(out, [f(p) for p in pts], rtol=0, atol=0)
    assert f.function_batched(pts).shape == (7,)
    with pytest.raises(ValueError, match="shape"):
        f(np.ones(3))
    with pytest.raises(ValueError, match="shape"):
        f.evaluate(np.ones(2))
    assert f([1, 0]) == np.sin(1.0)  # integer points are read as float64


def test_transforms_compose():
    f = E.parse("x*y^2 + sin(x)")
    pts = np.random.default_rng(1).standard_normal((4, 2))
    np.testing.assert_allclose(mc.vmap(f.function)(pts), f.evaluate(pts), rtol=1e-15)
    grads = mc.vmap(mc.grad(f.function))(pts)
    np.testing.assert_allclose(grads, [mc.grad(f.function)(p) for p in pts], rtol=1e-14)
    batch_grad = mc.grad(lambda P: np.sum(f.evaluate(P)))(pts)
    np.testing.assert_allclose(batch_grad, grads, rtol=1e-14)


def test_long_chains_count_as_one_level():
    f = E.parse("+".join(["x"] * 200) + "-" + "*".join(["y"] * 40))
    assert f([1.0, 1.0]) == 199.0
    assert mc.grad(f.function)(np.array([1.0, 1.0]))[1] == -40.0


def test_import_is_lazy():
    code = "import sys, mlcalc.expr; assert 'sympy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------- AD agrees with SymPy


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_values_gradient_hessian_agree_with_sympy(text):
    f = E.parse(text)
    n = len(f.variables)
    for seed in range(3):
        point = _random_point(f, seed)
        subs = _subs(f, point)
        value = float(f.sympy.evalf(subs=subs))
        grad = [float(sp.diff(f.sympy, s).evalf(subs=subs)) for s in f.symbols]
        hess = [
            [float(sp.diff(f.sympy, a, b).evalf(subs=subs)) for b in f.symbols] for a in f.symbols
        ]
        np.testing.assert_allclose(f(point), value, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(f.evaluate(point[None])[0], value, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(mc.grad(f.function)(point), grad, rtol=1e-11, atol=1e-12)
        H = mc.hessian(f.function)(point)
        assert H.shape == (n, n)
        np.testing.assert_allclose(H, hess, rtol=1e-10, atol=1e-11)


@pytest.mark.parametrize("text", EXPRESSIONS[1:12:2])
def test_check_grads(text):
    f = E.parse(text)
    check_grads(f.function, (_random_point(f, 7),), order=2)


def test_abs_at_zero_follows_sign_convention():
    f = E.parse("abs(x)")
    assert mc.grad(f.function)(np.array([0.0]))[0] == 0.0
    assert sp.diff(f.sympy, f.symbols[0]).subs(f.symbols[0], 0) == 0


def test_stable_sigmoid_and_softplus():
    f = E.parse("sigmoid(x) + softplus(x)")
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert f([-1000.0]) == 0.0
        assert f([1000.0]) == 1001.0
        np.testing.assert_allclose(mc.grad(f.function)(np.array([-1000.0])), [0.0])


# ------------------------------------------------------------------ symbolic results


def test_symbolic_derivatives_quadratic():
    f = E.parse("x**2 + 3*y**2 - x*y")
    x, y = f.symbols
    d = E.symbolic_derivatives(f)
    assert sp.expand(d.gradient[0] - (2 * x - y)) == 0
    assert sp.expand(d.gradient[1] - (6 * y - x)) == 0
    assert d.hessian == sp.Matrix([[2, -1], [-1, 6]])
    assert d.hessian.eigenvals() == {4 + sp.sqrt(5): 1, 4 - sp.sqrt(5): 1}
    assert d.point is None and d.taylor is None

    d = E.symbolic_derivatives(f, at=(1.0, 2))
    assert d.point == (1, 2)
    assert d.value == 11.0
    np.testing.assert_array_equal(d.gradient_value, [0.0, 11.0])
    np.testing.assert_array_equal(d.hessian_value, [[2.0, -1.0], [-1.0, 6.0]])
    np.testing.assert_allclose(d.gradient_value, mc.grad(f.function)(np.array([1.0, 2.0])))
    assert sp.expand(d.taylor - f.sympy) == 0  # a quadratic is its own Taylor polynomial


def test_symbolic_derivatives_order_one_and_text_input():
    d = E.symbolic_derivatives("sin(x)*y", order=1, at=[0.5, 2.0])
    assert d.hessian is None and d.hessian_value is None
    np.testing.assert_allclose(d.gradient_value, [2 * np.cos(0.5), np.sin(0.5)], rtol=1e-15)
    x, y = d.expression.symbols
    sin, cos = np.sin(0.5), np.cos(0.5)
    difference = sp.expand(d.taylor - (2 * sin + 2 * cos * (x - 0.5) + sin * (y - 2)))
    assert max((abs(float(c)) for c in sp.Poly(difference, x, y).coeffs()), default=0) < 1e-14
    with pytest.raises(ValueError, match="order"):
        E.symbolic_derivatives("x", order=3)
    with pytest.raises(ValueError, match="coordinates"):
        E.symbolic_derivatives("x*y", at=(1.0,))


def test_taylor_exp_sin_at_origin():
    f = E.parse("exp(x)*sin(y)")
    x, y = f.symbols
    assert sp.expand(E.taylor_polynomial(f, (0, 0)) - (y + x * y)) == 0
    cubic = x**2 * y / 2 + x * y - y**3 / 6 + y
    assert sp.expand(E.taylor_polynomial(f, (0, 0), order=3) - cubic) == 0
    series = sp.series(sp.exp(x) * sp.sin(x), x, 0, 6).removeO()  # along y = x
    t5 = E.taylor_polynomial(f, np.zeros(2), order=5).subs(y, x)
    assert sp.expand(t5 - series) == 0
    assert E.taylor_polynomial(f, (0, 0), order=0) == 0


def test_taylor_matches_ad_derivatives_at_a_point():
    f = E.parse("exp(x)*sin(y)")
    a = np.array([0.3, 1.1])
    t = E.taylor_polynomial(f, a, order=2)
    subs = dict(zip(f.symbols, (sp.Float(0.3), sp.Float(1.1))))
    grad = [float(sp.diff(t, s).evalf(subs=subs)) for s in f.symbols]
    hess = [[float(sp.diff(t, u, v).evalf(subs=subs)) for v in f.symbols] for u in f.symbols]
    assert float(t.evalf(subs=subs)) == pytest.approx(f(a), rel=1e-14)
    np.testing.assert_allclose(grad, mc.grad(f.function)(a), rtol=1e-13)
    np.testing.assert_allclose(hess, mc.hessian(f.function)(a), rtol=1e-13)
    d = E.symbolic_derivatives(f, at=a)
    np.testing.assert_allclose(d.hessian_value, mc.hessian(f.function)(a), rtol=1e-13)
    assert sp.simplify(d.taylor - t) == 0


def test_taylor_limits():
    with pytest.raises(ValueError, match="terms"):
        E.taylor_polynomial("+".join(f"x{i}" for i in range(30)), np.zeros(30), order=6)
    with pytest.raises(ValueError, match="order"):
        E.taylor_polynomial("x", (0,), order=-1)


# ------------------------------------------------------------------- rejected inputs

# (text, part of the message, 0-based offset of the caret in the text)
ADVERSARIAL = [
    ("x.__class__", "attribute access", 1),
    ("().__class__.__bases__", "attribute access", 12),
    ("sin.__call__(x)", "attribute access", 3),
    ("__import__('os')", "beginning with '_'", 0),
    ("_x + 1", "beginning with '_'", 0),
    ("lambda: 1", "lambda", 0),
    ("[x for x in y]", "comprehensions", 0),
    ("(x for x in y)", "comprehensions", 0),
    ("{x: 1 for x in y}", "comprehensions", 0),
    ("'abc'", "strings", 0),
    ("x + b'abc'", "bytes", 4),
    ("f'{x}'", "f-strings", 0),
    ("x[0]", "subscripts", 1),
    ("x < y", "comparisons", 2),
    ("x == y", "comparisons", 2),
    ("x and y", "boolean operators", 2),
    ("not x", "'not'", 0),
    ("x if y else z", "conditional expressions", 2),
    ("sin(*x)", "starred", 4),
    ("*x", "syntax error", 0),
    ("(y := x)", ":=", 3),
    ("9**9**9", "powers nested in a constant exponent", 4),
    ("9^9^9", "powers nested in a constant exponent", 3),
    ("x**(2**3)", "powers nested in a constant exponent", 5),
    ("2**100000", "exponent 100000 is too large", 3),
    ("x**-101", "too large", 3),
    ("(10**40)**100", "power of a constant would exceed 1024 bits", 8),
    ("(x*10**49)**100", "power of a constant would exceed 1024 bits", 10),
    ("system(x)", "unknown function 'system'", 0),
    ("eval(x)", "unknown function 'eval'", 0),
    ("1 + open(x)", "unknown function 'open'", 4),
    ("exec(x)", "unknown function 'exec'", 0),
    ("sin(x=1)", "keyword arguments", 4),
    ("exp(x, **y)", "keyword arguments", 7),
    ("f(x)(y)", "only allowlisted functions", 4),
    ("sin(x, y)", "takes 1 argument (2 given)", 0),
    ("sin()", "takes 1 argument (0 given)", 0),
    ("sin + 1", "must be called", 0),
    ("x // y", "'//'", 2),
    ("x % y", "'%'", 2),
    ("x @ y", "'@'", 2),
    ("x | y", "'|'", 2),
    ("~x", "'~'", 0),
    ("1j * x", "complex", 0),
    ("True", "True is not allowed", 0),
    ("None", "None is not allowed", 0),
    ("...", "Ellipsis is not allowed", 0),
    ("x, y", "tuples", 0),
    ("[x]", "lists", 0),
    ("{x}", "sets", 0),
    ("{x: 1}", "dicts", 0),
    ("1" * 51, "51 digits", 0),
    ("1e400", "overflows", 0),
    ("1/0", "division by zero", 1),
    ("x/(1 - 1)", "division by zero", 1),
    ("0**-1", "division by zero", 1),
    ("x + log(0)", "division by zero", 4),
    ("sqrt(-1)", "not a real number", 0),
    ("(-8)**(1/3)", "not a real number", 4),
    ("x + ", "syntax error", 4),
    ("sin(x", "never closed", 3),
    ("x ^^ 2", "syntax error", 3),
    ("   x ** * 2", "syntax error", 8),
    ("α + * x", "syntax error", 4),
    ("x +\n y.z", "attribute access", 6),
    ("x\x00", "control character", 1),
    ("", "empty", None),
    ("   ", "empty", None),
]


@pytest.mark.parametrize("text, message, offset", ADVERSARIAL)
def test_adversarial_inputs_rejected_with_caret(text, message, offset):
    with pytest.raises(E.ExpressionError, match=None) as info:
        E.parse(text)
    err = info.value
    assert isinstance(err, ValueError)
    assert message in err.reason
    assert err.text == text
    assert err.offset == offset
    if offset is not None:
        assert f"(column {offset + 1})" in str(err)
        assert _offset_of_caret(err) == offset
        assert str(err).splitlines()[-2] == "  " + text.replace("\n", " ").replace("\x00", "?")


@pytest.mark.parametrize(
    "text, message, offset",
    [
        ("(" * 200 + "x" + ")" * 200, "brackets nested more than 50 deep", 50),
        ("-" * 1000 + "x", "nested more than 50 deep", 50),
        ("sin(" * 30 + "x" + ")" * 30, None, None),
        ("exp(-" * 30 + "x" + ")" * 30, "nested more than 50 deep", None),
        ("x" * 10_000, "10000 characters long", 2000),
        ("+".join(["x"] * 501), "more than 500 parts", None),
    ],
)
def test_limits(text, message, offset):
    if message is None:  # just inside the limits
        assert E.parse(text).variables == ("x",)
        return
    with pytest.raises(E.ExpressionError) as info:
        E.parse(text)
    assert message in info.value.reason
    if offset is not None:
        assert info.value.offset == offset
    lines = str(info.value).splitlines()
    assert len(lines) == 3 and len(lines[1]) < 90  # a window of the text, not all of it
    assert lines[1][lines[2].index("^")] == text[info.value.offset]


@pytest.mark.parametrize(
    "text, operator",
    [
        ("*".join(["12345678901234567890"] * 20), "*"),  # 1024 bits ≈ 308 digits
        ("+".join(f"x/{10**40 + i}" for i in range(40)), "+"),  # growing denominators
    ],
)
def test_exact_constants_are_bounded(text, operator):
    with pytest.raises(E.ExpressionError, match="a constant exceeds 1024 bits") as info:
        E.parse(text)
    assert text[info.value.offset] == operator


def test_parse_rejects_non_string():
    with pytest.raises(TypeError):
        E.parse(b"x")
