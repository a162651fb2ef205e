import numpy as np
import pytest
import torch

from ganforge.latent.entangle import direction_table, latent_directions, steer_property_table
from ganforge.latent.probe import linear_probe, penultimate_features, probe_run
from ganforge.models.dcgan import DCGANDiscriminator
from ganforge.models.mlp import MLPDiscriminator


def test_property_table_and_directions(digits_gan):
    from ganforge.latent.sources import load_gan_generator

    G = load_gan_generator(digits_gan, "steer")
    table = steer_property_table(G, n=16, steps=10, lr=0.1)
    assert set(table.rows) == {"ink", "thickness", "slant", "width"}
    for p, row in table.rows.items():
        assert row[p] > 0  # steering a property up raises it
    assert "Δ thickness (sd)" in table.markdown()
    dirs = latent_directions(G, n=400)
    assert dirs.directions.shape == (4, G.z_dim)
    assert np.allclose(np.diag(dirs.cosine), 1.0)
    assert all(v <= 1.0 for v in dirs.r2.values()) and max(dirs.r2.values()) > 0  # some property is linear in z
    dt = direction_table(G, dirs, step=2.0, n=16)
    assert dt.rows["ink"]["ink"] > 0


@pytest.mark.parametrize("D", [MLPDiscriminator((1, 8, 8), (32, 16), num_classes=10),
                               DCGANDiscriminator((1, 8, 8), 8, num_classes=10)])
def test_features_are_label_free_for_conditional_D(D):
    D.eval()
    x = torch.rand(5, 1, 8, 8) * 2 - 1
    f = penultimate_features(D, x)
    assert f.shape[0] == 5 and f.shape[1] == D.head.in_features
    f1 = penultimate_features(D, x[:1])
    assert np.allclose(f[:1], f1, atol=1e-6)  # each image's features depend on it alone


def test_linear_probe_separable_data():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 50)
    f = rng.normal(size=(100, 3)) + y[:, None] * 4
    assert linear_probe(f, y, f, y) == 1.0


def test_probe_beats_chance_on_a_tiny_run(digits_cgan):
    res = probe_run(digits_cgan, sizes=(100, None), seed=0)
    assert res.sizes == [100, 1297]
    assert set(res.accuracy) == {"trained D", "random D", "pixels"}
    for name, accs in res.accuracy.items():
        assert all(a > 0.3 for a in accs), (name, accs)  # chance is 0.1
    assert "| 100 |" in res.markdown()
