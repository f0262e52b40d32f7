"""Makes peft LoRA adapters on the tiny checkpoints, with golden logits, for distill4j's LoRA tests.

Run once from the repository root, after make_tiny_lms.py, with the project's Python environment
(torch, transformers, safetensors, peft):

    /work/venv/bin/python modules/models/src/test/python/make_lora_fixtures.py

It reads modules/models/src/test/resources/lm/{gpt2-tiny,llama-tiny} and writes, next to them:
  gpt2-tiny-lora/   adapter_config.json, adapter_model.safetensors (peft.get_peft_model + save_pretrained),
                    expected.json: input ids, logits of the adapted model (eval mode, float32) and of the
                    model after merge_and_unload()
  llama-tiny-lora/  the same on the Llama checkpoint, with a subset of the projections and rsLoRA

peft initialises B at zero (the adapter is then a no-op), so A and B are redrawn from N(0, 0.3^2) with a fixed
seed: the adapters move the logits by several units, far above the tests' 1e-5 tolerance.
"""
import json
import os

import peft
import safetensors
import torch
import transformers
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

LM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "lm")

CASES = {
    "gpt2-tiny": dict(r=4, lora_alpha=8, target_modules=["c_attn", "attn.c_proj", "c_fc", "mlp.c_proj"],
                      fan_in_fan_out=True, use_rslora=False),
    "llama-tiny": dict(r=2, lora_alpha=3, target_modules=["q_proj", "v_proj", "o_proj", "gate_proj", "down_proj"],
                       use_rslora=True),
}


def main():
    for name, settings in CASES.items():
        torch.manual_seed(0)
        base = AutoModelForCausalLM.from_pretrained(os.path.join(LM, name), dtype=torch.float32)
        model = get_peft_model(base, LoraConfig(lora_dropout=0.0, bias="none", task_type="CAUSAL_LM", **settings))
        g = torch.Generator().manual_seed(1234)
        with torch.no_grad():
            for pname, p in model.named_parameters():
                if "lora_" in pname:
                    p.copy_(0.3 * torch.randn(p.shape, generator=g))
        model.eval()
        with open(os.path.join(LM, name, "expected.json")) as f:
            ids = torch.tensor(json.load(f)["input_ids"])
        with torch.no_grad():
            logits = model(input_ids=ids).logits
        out = os.path.join(LM, name + "-lora")
        model.save_pretrained(out)
        # the folder must not depend on where it was made
        cfg_path = os.path.join(out, "adapter_config.json")
        with open(cfg_path) as f:
            cfg = json.load(f)
        cfg["base_model_name_or_path"] = "../" + name
        with open(cfg_path, "w") as f:
            json.dump(cfg, f, indent=2, sort_keys=True)
        for extra in os.listdir(out):
            if extra not in ("adapter_config.json", "adapter_model.safetensors"):
                os.remove(os.path.join(out, extra))
        with torch.no_grad():
            merged = model.merge_and_unload()(input_ids=ids).logits
        expected = {
            "made_by": "modules/models/src/test/python/make_lora_fixtures.py",
            "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                         "peft": peft.__version__, "safetensors": safetensors.__version__},
            "input_ids": ids.tolist(),
            "logits": logits.tolist(),
            "merged_logits": merged.tolist(),
        }
        with open(os.path.join(out, "expected.json"), "w") as f:
            json.dump(expected, f, separators=(",", ":"))
        print(name, "max |adapted - merged|", (logits - merged).abs().max().item())


if __name__ == "__main__":
    main()
