"""Loads adapters that distill4j saved (SaveForPeft.java) with peft and compares logits with distill4j's; see run.sh."""
import json, sys, torch
from peft import PeftModel
from transformers import AutoModelForCausalLM
for name in ["gpt2-tiny", "llama-tiny"]:
    d = sys.argv[1] + "/" + name
    cfg = json.load(open(d + "/adapter_config.json"))
    base = AutoModelForCausalLM.from_pretrained(cfg["base_model_name_or_path"], dtype=torch.float32)
    m = PeftModel.from_pretrained(base, d).eval()
    with torch.no_grad():
        z = m(input_ids=torch.tensor([[1, 5, 9, 33, 70, 2, 11, 50]])).logits.flatten()
    j = torch.tensor(json.load(open(d + "/java_logits.json")))
    print(name, "peft loads the Java adapter; max |peft - java| =", (z - j).abs().max().item(), "max |logit|", z.abs().max().item())
    assert (z - j).abs().max().item() < 1e-5, name + ": peft and distill4j disagree"
