"""PyTorch twin of io.distill4j.bench.GkdStepTiming: on-policy GKD steps with Hugging Face transformers.

Student GPT-2 2 x 128, teacher GPT-2 4 x 256, vocabulary 4096, context 64, random weights, dropout 0. Each step:
the student samples every continuation (generate with the KV cache, do_sample, temperature 1, top_k 0, exactly
N new tokens, batched over the prompts, as TRL's GKDTrainer does), the teacher scores prompt + continuation, the
loss is TRL's generalized JSD (beta 0.5) over the continuation's positions, one AdamW step (lr 1e-4, no decay).

    python gkd_step.py [batch promptLength newTokens warmup steps [phases]]

With a sixth argument "phases" it also prints the median of each phase (generate, teacher scoring, student
forward + loss + backward + update) for a profile against GkdStepTiming's phases.
"""
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from transformers import GPT2Config, GPT2LMHeadModel


def model(layers, width, seed):
    torch.manual_seed(seed)
    cfg = GPT2Config(vocab_size=4096, n_positions=64, n_embd=width, n_layer=layers, n_head=width // 64,
                     resid_pdrop=0, embd_pdrop=0, attn_pdrop=0, bos_token_id=None, eos_token_id=None)
    return GPT2LMHeadModel(cfg)


def jsd(student_logits, teacher_logits, beta=0.5):
    s = F.log_softmax(student_logits, -1)
    t = F.log_softmax(teacher_logits, -1)
    mix = torch.logsumexp(torch.stack([s + torch.log(torch.tensor(1 - beta)), t + torch.log(torch.tensor(beta))]), 0)
    kl_t = F.kl_div(mix, t, reduction="none", log_target=True)
    kl_s = F.kl_div(mix, s, reduction="none", log_target=True)
    return (beta * kl_t + (1 - beta) * kl_s).sum(-1).mean()


def main():
    phases = len(sys.argv) > 6 and sys.argv[6] == "phases"
    a = [int(x) for x in sys.argv[1:6]]
    batch, plen, new, warmup, steps = (a + [8, 16, 32, 2, 5][len(a):])[:5]
    student, teacher = model(2, 128, 0), model(4, 256, 1)
    teacher.eval()
    opt = torch.optim.AdamW(student.parameters(), lr=1e-4, weight_decay=0)
    g = torch.Generator().manual_seed(0)
    times = []
    parts = []
    for s in range(warmup + steps):
        prompts = torch.randint(0, 4096, (batch, plen), generator=g)
        t0 = time.perf_counter()
        student.eval()
        with torch.no_grad():
            seq = student.generate(prompts, attention_mask=torch.ones_like(prompts), do_sample=True, temperature=1.0,
                                   top_k=0, max_new_tokens=new, min_new_tokens=new, use_cache=True, pad_token_id=0)
            t1 = time.perf_counter()
            t_logits = teacher(seq).logits[:, plen - 1:-1]
            t2 = time.perf_counter()
        student.train()
        s_logits = student(seq).logits[:, plen - 1:-1]
        loss = jsd(s_logits, t_logits)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        t3 = time.perf_counter()
        dt = (t3 - t0) * 1000
        if s >= warmup:
            times.append(dt)
            parts.append(((t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000))
            print(f"step_ms={dt:.1f}")
    med = statistics.median(times)
    print(f"side=pytorch median_ms={med:.1f} tokens_per_s={batch * new / (med / 1000):.1f} "
          f"threads={torch.get_num_threads()}")
    if phases:
        g_ms, t_ms, s_ms = (statistics.median(p[i] for p in parts) for i in range(3))
        print(f"side=pytorch-phases generate_ms={g_ms:.1f} teacher_ms={t_ms:.1f} student_ms={s_ms:.1f}")


if __name__ == "__main__":
    main()
