import pytest
import torch

from ganforge.config import ModelConfig
from ganforge.errors import ConfigError
from ganforge.models import build_discriminator, build_generator
from ganforge.models.noise import sample_z
from ganforge.sampler import GeneratorSampler


@pytest.mark.parametrize("output, lo, hi", [("tanh", -1, 1), ("sigmoid", 0, 1)])
def test_mlp_generator_shape_and_range(output, lo, hi):
    torch.manual_seed(0)
    G = build_generator(ModelConfig(), (1, 28, 28), 0, output)
    x = G(torch.randn(7, 100) * 10)
    assert x.shape == (7, 1, 28, 28) and G.z_dim == 100 and G.img_shape == (1, 28, 28) and G.num_classes == 0
    assert x.min() >= lo and x.max() <= hi


def test_mlp_discriminator_returns_logits_per_sample():
    D = build_discriminator(ModelConfig(), (1, 28, 28), 0)
    out = D(torch.rand(5, 1, 28, 28))
    assert out.shape == (5,)


def test_conditional_labels_required_and_used():
    torch.manual_seed(0)
    G = build_generator(ModelConfig(g_hidden=(16,)), (1, 8, 8), 10, "tanh")
    D = build_discriminator(ModelConfig(d_hidden=(16,), d_dropout=0), (1, 8, 8), 10)
    z = torch.randn(4, 100)
    with pytest.raises(ValueError, match="pass labels"):
        G(z)
    a, b = G(z, torch.tensor([1, 1, 1, 1])), G(z, torch.tensor([2, 2, 2, 2]))
    assert not torch.allclose(a, b)
    assert not torch.allclose(D(a, torch.zeros(4, dtype=torch.long)), D(a, torch.ones(4, dtype=torch.long)))


def _sampler(net, dropout_at_sampling):
    return GeneratorSampler(net, z_dim=100, dropout_at_sampling=dropout_at_sampling, img_shape=(1, 8, 8),
                            num_classes=0, scaling="tanh", kind="gan").eval()


def test_dropout_at_sampling_keeps_randomness():
    cfg = ModelConfig(g_hidden=(32,), g_dropout=0.5)
    G = _sampler(build_generator(cfg, (1, 8, 8), 0, "tanh"), True)
    z = torch.randn(3, 100)
    assert not torch.equal(G(z), G(z))
    G2 = _sampler(build_generator(cfg, (1, 8, 8), 0, "tanh"), False)
    assert torch.equal(G2(z), G2(z))
    assert not G2.training and not G2.net.training


def test_noise_kinds():
    g = torch.Generator().manual_seed(0)
    u = sample_z(2000, 4, "uniform", g)
    n = sample_z(2000, 4, "gaussian", g)
    assert u.min() >= -1 and u.max() <= 1 and n.abs().max() > 2
    assert abs(float(n.std()) - 1) < 0.05


# --- FastDropout: nn.Dropout's maths with masks from torch's int64 stream (issue 20) ---

def test_fast_dropout_keeps_each_element_with_probability_one_minus_p():
    from ganforge.models.layers import FastDropout

    torch.manual_seed(0)
    n, p = 2_000_000, 0.3
    out = FastDropout(p).train()(torch.ones(n))
    kept = out != 0
    sd = (p * (1 - p) / (n / 2)) ** 0.5  # each half of the 64-bit words on its own: 5 sd
    assert abs(kept[0::2].float().mean().item() - (1 - p)) < 5 * sd
    assert abs(kept[1::2].float().mean().item() - (1 - p)) < 5 * sd
    # neighbours (the two halves of one word) are independent: P(both kept) = (1-p)^2
    both = (kept[0::2] & kept[1::2]).float().mean().item()
    assert abs(both - (1 - p) ** 2) < 5 * ((1 - p) ** 2 * (1 - (1 - p) ** 2) / (n / 2)) ** 0.5
    torch.testing.assert_close(out[kept], torch.full_like(out[kept], 1 / (1 - p)))  # inverted dropout's scale


def test_fast_dropout_gradient_is_the_mask_and_eval_is_identity():
    from ganforge.models.layers import FastDropout

    torch.manual_seed(1)
    x = torch.randn(64, 33, requires_grad=True)  # odd element count: the last word is half used
    layer = FastDropout(0.5)
    out = layer(x)
    out.sum().backward()
    torch.testing.assert_close(x.grad, (out != 0).float() * 2.0)
    torch.testing.assert_close(out, x.detach() * x.grad)
    assert layer.eval()(x) is x and FastDropout(0.0).train()(x) is x
    assert torch.equal(FastDropout(1.0).train()(x), torch.zeros_like(x))
    assert FastDropout(0.5).train()(x.detach().bfloat16()).dtype == torch.bfloat16


def test_fast_dropout_is_seeded_by_torch_and_found_as_dropout():
    from torch import nn

    from ganforge.models.layers import FastDropout

    x = torch.ones(1000)
    torch.manual_seed(7)
    a = FastDropout(0.3)(x)
    torch.manual_seed(7)
    assert torch.equal(FastDropout(0.3)(x), a) and not torch.equal(FastDropout(0.3)(x), a)
    D = build_discriminator(ModelConfig(dropout_masks="fast"), (1, 28, 28), 0)
    kinds = {type(m) for m in D.modules() if isinstance(m, nn.Dropout)}
    assert kinds == {FastDropout}  # and GeneratorSampler's dropout_at_sampling finds it by nn.Dropout
    assert {type(m) for m in build_discriminator(ModelConfig(), (1, 28, 28), 0).modules()
            if isinstance(m, nn.Dropout)} == {nn.Dropout}
    with pytest.raises(ConfigError, match="dropout_masks"):
        ModelConfig(dropout_masks="bits")


def test_fast_dropout_keep_mask_is_what_forward_multiplies_by():
    from ganforge.models.layers import FastDropout

    layer, x = FastDropout(0.3).train(), torch.randn(8, 7)
    torch.manual_seed(3)
    mask = layer.keep_mask((8, 7))
    torch.manual_seed(3)
    assert torch.equal(layer(x), x * mask)
    assert mask.dtype == torch.float32
    torch.testing.assert_close(mask.unique(), torch.tensor([0.0, 1 / 0.7]))


def test_fast_dropout_is_torchs_dropout_off_the_cpu(monkeypatch):
    """On a GPU torch's dropout is one fused kernel, faster than FastDropout's five (H200,
    docs/training.md): off the CPU the layer hands over to F.dropout. A meta tensor stands in
    for a GPU's here (CI has none); the CPU path does not call F.dropout."""
    import ganforge.models.layers as layers

    calls = []
    real_dropout = layers.F.dropout
    monkeypatch.setattr(layers.F, "dropout", lambda x, p, training: calls.append((x.device.type, p, training))
                        or real_dropout(x, p, training))
    out = layers.FastDropout(0.3).train()(torch.ones(4, 5, device="meta"))
    assert calls == [("meta", 0.3, True)] and out.shape == (4, 5) and out.device.type == "meta"
    layers.FastDropout(0.3).train()(torch.ones(4, 5))
    assert len(calls) == 1


onednn = pytest.mark.skipif(__import__("ganforge.models.layers", fromlist=["x"])._ONEDNN_LINEAR is None,
                            reason="this torch has no oneDNN")


def _twin_linears(n_in, n_out, seed=0):
    from torch import nn

    from ganforge.models.layers import OneDNNLinear

    torch.manual_seed(seed)
    ours = OneDNNLinear(n_in, n_out)
    ref = nn.Linear(n_in, n_out)
    ref.load_state_dict(ours.state_dict())  # the same parameters under the same names
    return ours, ref


@onednn
@pytest.mark.parametrize("rows,n_in,n_out", [(128, 784, 1024), (64, 1024, 784), (5, 3, 7)])
def test_onednn_linear_computes_nn_linears_output_and_gradients(rows, n_in, n_out):
    ours, ref = _twin_linears(n_in, n_out)
    x = torch.randn(rows, n_in)
    g = torch.randn(rows, n_out)
    results = []
    for layer in (ours, ref):
        xi = x.clone().requires_grad_()
        y = layer(xi)
        y.backward(g)
        results.append((y.detach(), xi.grad, layer.weight.grad, layer.bias.grad))
    assert results[0][0].grad_fn is None and ours(x).grad_fn.name() == "_OneDNNLinearFunctionBackward"
    for a, b in zip(*results):  # the same products, another library's rounding
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-5 * b.abs().max().item())


@onednn
def test_onednn_linear_skips_gradients_nobody_asked_for_and_supports_double_backward():
    ours, ref = _twin_linears(20, 8)
    ours.weight.requires_grad_(False)  # a frozen D in G's step
    x = torch.randn(6, 20, requires_grad=True)
    ours(x).sum().backward()
    assert ours.weight.grad is None and ours.bias.grad is not None and x.grad is not None
    ours.weight.requires_grad_(True)
    # R1 / gradient penalty: the gradient of a gradient norm with respect to the weights.
    for layer in (ours, ref):
        xi = x.detach().requires_grad_()
        (gx,) = torch.autograd.grad(torch.tanh(layer(xi)).sum(), xi, create_graph=True)
        gx.pow(2).sum().backward()
    assert torch.allclose(ours.weight.grad, ref.weight.grad, rtol=1e-5, atol=1e-6)


def test_onednn_linear_falls_back_to_f_linear_where_onednn_does_not_apply():
    ours, ref = _twin_linears(6, 4)
    x3 = torch.randn(2, 3, 6)  # not a batch of rows
    assert torch.equal(ours(x3), ref(x3))
    x64 = torch.randn(5, 6, dtype=torch.float64)
    assert torch.equal(ours.double()(x64), ref.double()(x64))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert ours.float()(torch.randn(5, 6)).dtype == torch.bfloat16


def test_matmul_option_builds_onednn_layers_that_load_nn_linear_state():
    from torch import nn

    from ganforge.models.layers import OneDNNLinear

    for build in (lambda m: build_discriminator(ModelConfig(matmul=m), (1, 28, 28), 0),
                  lambda m: build_generator(ModelConfig(matmul=m), (1, 28, 28), 10, "tanh")):
        torch.manual_seed(0)
        plain, fast = build("torch"), build("onednn")
        assert {type(m) for m in plain.modules() if isinstance(m, nn.Linear)} == {nn.Linear}
        assert {type(m) for m in fast.modules() if isinstance(m, nn.Linear)} == {OneDNNLinear}
        fast.load_state_dict(plain.state_dict())  # checkpoints move between the two
    D = build_discriminator(ModelConfig(matmul="onednn", spectral_norm=True), (1, 28, 28), 0)
    D(torch.randn(4, 1, 28, 28)).sum().backward()
    assert all(p.grad is not None for p in D.parameters() if p.requires_grad)
    with pytest.raises(ConfigError, match="model.matmul"):
        ModelConfig(matmul="blas")


def test_auto_matmul_takes_onednn_on_amd_cpus_only(monkeypatch, tmp_path):
    from torch import nn

    from ganforge.models import layers
    from ganforge.presets import preset_config

    assert preset_config("mnist-mlp").model.matmul == "auto"
    assert layers.resolve_matmul("torch") == "torch" and layers.resolve_matmul("onednn") == "onednn"
    for vendor, want in (("AuthenticAMD", layers.OneDNNLinear), ("GenuineIntel", nn.Linear), ("", nn.Linear)):
        monkeypatch.setattr(layers, "cpu_vendor", lambda *_, v=vendor: v)
        if layers._ONEDNN_LINEAR is None:
            want = nn.Linear  # a torch without oneDNN keeps nn.Linear everywhere
        D = build_discriminator(ModelConfig(matmul="auto"), (1, 28, 28), 0)
        assert {type(m) for m in D.modules() if isinstance(m, nn.Linear)} == {want}, vendor
    monkeypatch.undo()  # the reader itself, on files written here
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\n")
    assert layers.cpu_vendor(str(info)) == "AuthenticAMD"
    assert layers.cpu_vendor(str(tmp_path / "absent")) == ""


@onednn
def test_training_steps_with_onednn_products_follow_the_torch_products():
    """Ten GAN steps (D then G, Adam) both ways from the same start: the same maths, so the
    first step's gradients agree to fp32 rounding and the losses stay together."""
    runs = {}
    for m in ("torch", "onednn"):
        torch.manual_seed(0)
        G = build_generator(ModelConfig(matmul=m, d_dropout=0.0), (1, 28, 28), 0, "tanh")
        D = build_discriminator(ModelConfig(matmul=m, d_dropout=0.0), (1, 28, 28), 0)
        opt_g = torch.optim.Adam(G.parameters(), 2e-4, (0.5, 0.999))
        opt_d = torch.optim.Adam(D.parameters(), 2e-4, (0.5, 0.999))
        gen = torch.Generator().manual_seed(1)
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        losses, first_grads = [], []
        for _ in range(10):
            real = torch.rand(32, 1, 28, 28, generator=gen) * 2 - 1
            fake = G(torch.randn(32, 100, generator=gen))
            d_loss = bce(D(real), torch.ones(32)) + bce(D(fake.detach()), torch.zeros(32))
            opt_d.zero_grad()
            d_loss.backward()
            first_grads = first_grads or [p.grad.clone() for p in D.parameters()]
            opt_d.step()
            g_loss = bce(D(fake), torch.ones(32))
            opt_g.zero_grad()
            g_loss.backward()
            if len(first_grads) == len(list(D.parameters())):
                first_grads += [p.grad.clone() for p in G.parameters()]
            opt_g.step()
            losses += [d_loss.item(), g_loss.item()]
        runs[m] = losses, first_grads
    (l1, g1), (l2, g2) = runs["torch"], runs["onednn"]
    assert len(g1) == len(g2) > 10
    for a, b in zip(g1, g2):  # (the biases before BatchNorm have gradients of rounding noise, ~1e-11)
        assert (a - b).norm() <= 1e-4 * b.norm() + 1e-7
    # Not the parameters: Adam's first steps are about lr x sign(gradient), so an element whose
    # gradient is rounding noise (the biases before BatchNorm) moves either way.
    # Rounding differences grow over the steps: at most 1.2e-4 measured (an Intel Xeon, 1 thread).
    assert max(abs(a - b) for a, b in zip(l1, l2)) < 1e-3


def test_mnist_mlp_step_by_hand_computes_the_autograd_step():
    """benchmarks/mlp_step_by_hand.py (issue 20: is autograd the slow part?) times the preset's
    step against the same step with its gradients written out; the timing means something only
    if both compute the same losses from the same seed."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "mlp_step_by_hand", Path(__file__).resolve().parents[1] / "benchmarks" / "mlp_step_by_hand.py")
    by_hand = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(by_hand)
    rows = by_hand.compare(steps=4)
    d_auto, d_hand, g_auto, g_hand = map(torch.tensor, zip(*rows))
    torch.testing.assert_close(d_hand, d_auto, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(g_hand, g_auto, rtol=1e-4, atol=1e-5)
    assert len(set(d_auto.tolist())) == 4  # the networks learn: every step's loss differs
