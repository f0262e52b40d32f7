// distill4j (issue 5): the native methods of DJL 0.35.1's PyTorchLibrary that the distill4j training
// engine reaches beyond those of scripts/djl-jni/djl_torch_min.cc (in-place arithmetic of the AdamW
// update, squares, index fills). Compiled together with it and the generated stubs by run-on-device.sh;
// semantics follow DJL's JNI (ai_djl_pytorch_jni_PyTorchLibrary_tensor/pointwise.cc).
#include <jni.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "PyTorchLibrary_decls.h"

namespace {

void ThrowEngineX(JNIEnv* env, const char* msg) {
  jclass cls = env->FindClass("ai/djl/engine/EngineException");
  if (cls == nullptr) {
    env->ExceptionClear();
    cls = env->FindClass("java/lang/IllegalStateException");
  }
  env->ThrowNew(cls, msg);
}

#define XTRY try {
#define XCATCH(ret)                                  \
  }                                                  \
  catch (const c10::Error& e) {                      \
    ThrowEngineX(env, e.what_without_backtrace());   \
  }                                                  \
  catch (const std::exception& e) {                  \
    ThrowEngineX(env, e.what());                     \
  }                                                  \
  return ret;

inline torch::Tensor& TX(jlong h) { return *reinterpret_cast<torch::Tensor*>(h); }
inline jlong HX(torch::Tensor t) { return reinterpret_cast<jlong>(new torch::Tensor(std::move(t))); }
using IndexX = std::vector<torch::indexing::TensorIndex>;  // the index handle of djl_torch_min.cc

}  // namespace

extern "C" {

JNIEXPORT void JNICALL Java_ai_djl_pytorch_jni_PyTorchLibrary_torchMuli(JNIEnv* env, jobject, jlong a, jlong b) {
  XTRY TX(a).mul_(TX(b)); XCATCH()
}

JNIEXPORT void JNICALL Java_ai_djl_pytorch_jni_PyTorchLibrary_torchAddi(JNIEnv* env, jobject, jlong a, jlong b) {
  XTRY TX(a).add_(TX(b)); XCATCH()
}

JNIEXPORT void JNICALL Java_ai_djl_pytorch_jni_PyTorchLibrary_torchSubi(JNIEnv* env, jobject, jlong a, jlong b) {
  XTRY TX(a).sub_(TX(b)); XCATCH()
}

JNIEXPORT void JNICALL Java_ai_djl_pytorch_jni_PyTorchLibrary_torchTrueDividei(JNIEnv* env, jobject, jlong a, jlong b) {
  XTRY TX(a).true_divide_(TX(b)); XCATCH()
}

JNIEXPORT jlong JNICALL Java_ai_djl_pytorch_jni_PyTorchLibrary_torchSquare(JNIEnv* env, jobject, jlong a) {
  XTRY return HX(TX(a).square()); XCATCH(0)
}

JNIEXPORT void JNICALL Java_ai_djl_pytorch_jni_PyTorchLibrary_torchIndexAdvPut(
    JNIEnv* env, jobject, jlong h, jlong idx, jlong data) {
  XTRY TX(h).index_put_(*reinterpret_cast<IndexX*>(idx), TX(data)); XCATCH()
}

}  // extern "C"
