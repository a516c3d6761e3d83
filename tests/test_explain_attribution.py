"""The image-shaped wrapper and the Captum methods on tiny known networks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from explain_helpers import SHAPE, random_images, tiny_model

from catcore.errors import CatnetError
from catcore.flatten import flatten_order
from interpret.attribution import attribute, explain
from interpret.methods import METHODS, Settings, parse_methods
from interpret.quality import completeness
from numpy_impl.network import predict_proba

ORDERS = ("course", "planar", "random-7")
SMALL = Settings(occlusion_window=2, occlusion_stride=1)  # windows that fit 4x4 images


@pytest.mark.parametrize("order", ORDERS)
def test_wrapper_flattens_exactly_as_the_model_file_order(order):
    model, _ = tiny_model(order=order)
    images = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (5,) + SHAPE).astype(np.float64))
    flat = model.flatten(images).numpy()  # (5, 48)
    reference = flatten_order(order, SHAPE)
    np.testing.assert_array_equal(flat, reference.flatten(images.numpy()).T)
    np.testing.assert_array_equal(reference.unflatten(flat.T), images.numpy())  # round trip, bit for bit


@pytest.mark.parametrize("order", ORDERS)
def test_wrapper_gives_the_numpy_reference_probability(order):
    model, params = tiny_model(order=order)
    images = random_images(6)
    X = flatten_order(order, SHAPE).flatten(images.numpy())  # (48, 6), already in [0, 1]
    np.testing.assert_allclose(model.probability(images).numpy(), predict_proba(params, X)[0], rtol=1e-12)


@pytest.mark.parametrize("order", ORDERS)
def test_saliency_of_a_logistic_model_is_its_weights_on_the_right_pixels(order):
    model, params = tiny_model(hidden=(), order=order)
    images = random_images(3)
    maps = attribute(model, images, [0, 1, 2], "saliency").maps  # (3, 4, 4, 3)
    weights = flatten_order(order, SHAPE).unflatten_vector(params.layers[0].W[0])  # (4, 4, 3)
    for map_ in maps:
        np.testing.assert_allclose(map_, weights, rtol=0, atol=1e-15)


def test_input_x_gradient_of_a_logistic_model_is_weight_times_pixel():
    model, params = tiny_model(hidden=(), order="planar")
    images = random_images(2)
    weights = flatten_order("planar", SHAPE).unflatten_vector(params.layers[0].W[0])
    maps = attribute(model, images, [0, 1], "input-x-gradient").maps
    np.testing.assert_allclose(maps, images.numpy() * weights, rtol=1e-14)


def test_integrated_gradients_sum_to_the_logit_change():
    model, _ = tiny_model()
    images = random_images(8)
    result = attribute(model, images, list(range(8)), "integrated-gradients", Settings(ig_tolerance=1e-3))
    check = completeness(model, images, torch.zeros_like(images), result.maps)
    assert np.abs(check.gap).max() <= 1e-3
    np.testing.assert_allclose(check.gap, result.delta, atol=1e-12)  # Captum's delta is the same quantity
    assert np.abs(check.output_gap).min() > 0.01  # a real change to explain, not 0 = 0


def test_integrated_gradients_raises_its_steps_until_the_gap_is_small():
    model, _ = tiny_model(hidden=(12, 8))
    images = random_images(6)
    coarse = attribute(model, images, list(range(6)), "integrated-gradients",
                       Settings(ig_steps=2, ig_tolerance=1.0))  # tolerance met at once: 2 steps
    assert np.abs(coarse.delta).min() > 1e-3 and set(coarse.steps) == {2}
    fine = attribute(model, images, list(range(6)), "integrated-gradients",
                     Settings(ig_steps=2, ig_tolerance=1e-3, ig_max_steps=256))
    assert fine.steps.min() > 2  # every image needed more than 2 steps ...
    assert np.abs(fine.delta).max() <= 1e-3  # ... and got them


def test_integrated_gradients_stops_at_the_step_ceiling():
    model, _ = tiny_model(hidden=(12, 8))
    capped = attribute(model, random_images(6), list(range(6)), "integrated-gradients",
                       Settings(ig_steps=2, ig_tolerance=1e-9, ig_max_steps=16))
    assert set(capped.steps) == {16}
    assert np.abs(capped.delta).max() > 1e-9  # still too large: the command then warns


def test_deeplift_is_exactly_complete_through_relu_modules():
    # exact only if Captum's rescale rule reaches every ReLU, i.e. they are nn.ReLU modules
    model, _ = tiny_model(hidden=(12, 8))
    images = random_images(6)
    result = attribute(model, images, list(range(6)), "deeplift")
    check = completeness(model, images, torch.zeros_like(images), result.maps)
    assert np.abs(check.gap).max() < 1e-12


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_gives_finite_image_shaped_maps(method):
    model, _ = tiny_model()
    images = random_images(3)
    maps = attribute(model, images, [4, 5, 6], method, SMALL).maps
    assert maps.shape == (3,) + SHAPE
    assert np.all(np.isfinite(maps)) and np.any(maps != 0)


@pytest.mark.parametrize("method", ["smoothgrad", "gradient-shap"])
def test_stochastic_maps_depend_on_seed_and_image_not_on_the_company(method):
    model, _ = tiny_model()
    images = random_images(4)
    together = attribute(model, images, [10, 11, 12, 13], method, Settings(seed=3)).maps
    alone = attribute(model, images[2:3], [12], method, Settings(seed=3)).maps
    reseeded = attribute(model, images[2:3], [12], method, Settings(seed=4)).maps
    np.testing.assert_array_equal(alone[0], together[2])
    assert not np.allclose(reseeded[0], together[2])


def test_seeded_methods_leave_the_global_generators_alone():
    model, _ = tiny_model()
    np_before, torch_before = np.random.get_state()[1].copy(), torch.get_rng_state().clone()
    attribute(model, random_images(2), [0, 1], "gradient-shap")
    assert np.array_equal(np.random.get_state()[1], np_before)
    assert torch.equal(torch.get_rng_state(), torch_before)


def test_occlusion_of_a_logistic_model_sees_the_windows_contribution():
    # logit(x) - logit(x with a window blacked out) = sum of w*x over the window, spread evenly over its pixels
    model, params = tiny_model(hidden=(), order="random-3")
    image = random_images(1)
    maps = attribute(model, image, [0], "occlusion", Settings(occlusion_window=4, occlusion_stride=4)).maps
    weights = flatten_order("random-3", SHAPE).unflatten_vector(params.layers[0].W[0])
    whole = float((weights * image.numpy()[0]).sum())  # one 4x4 window covers the whole image
    # Captum's feature ablation divides in float32 (`single_attrib.float() / weight`), so float32 agreement
    np.testing.assert_allclose(maps[0], np.full(SHAPE, whole), rtol=1e-6)


def test_explain_in_chunks_matches_one_batch():
    model, _ = tiny_model()
    images = random_images(5)
    chunked = explain(model, images, list(range(5)), ["integrated-gradients", "smoothgrad"], chunk=2)
    whole = explain(model, images, list(range(5)), ["integrated-gradients", "smoothgrad"], chunk=5)
    for method in chunked:
        np.testing.assert_allclose(chunked[method].maps, whole[method].maps, rtol=1e-12)


def test_blurred_and_noise_baselines_are_image_shaped_and_in_range():
    model, _ = tiny_model()
    images = random_images(2)
    for baseline in ("blurred", "uniform-noise"):
        result = attribute(model, images, [0, 1], "integrated-gradients", Settings(baseline=baseline, ig_tolerance=1e-3))
        assert result.maps.shape == (2,) + SHAPE and np.abs(result.delta).max() <= 1e-3


def test_unknown_method_names_are_refused():
    assert parse_methods("all") == tuple(METHODS)
    assert parse_methods("occlusion, saliency,occlusion") == ("occlusion", "saliency")
    with pytest.raises(CatnetError, match="gradcam"):
        parse_methods("saliency,gradcam")


@pytest.mark.cuda
@pytest.mark.parametrize("method", ["saliency", "integrated-gradients", "deeplift", "occlusion"])  # noisy ones draw from per-device generators
def test_maps_on_cuda_match_the_cpu(method):
    model, _ = tiny_model()
    images = random_images(3)
    on_cpu = attribute(model, images, [0, 1, 2], method, SMALL).maps
    on_gpu = attribute(model.to("cuda"), images.to("cuda"), [0, 1, 2], method, SMALL).maps
    # float64 on both; only the summation order of the GPU kernels differs
    np.testing.assert_allclose(on_gpu, on_cpu, rtol=1e-9, atol=1e-12)
