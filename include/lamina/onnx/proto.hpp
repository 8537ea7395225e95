// lamina/onnx/proto.hpp: ONNX's protobuf classes, as export.hpp and
// import.hpp both use them, and the versions export writes.
//
// Needs Debian's libonnx-dev and libprotobuf-dev: link lamina::onnx (CMake),
// which defines ONNX_ML and ONNX_NAMESPACE for <onnx/onnx_pb.h>.
#pragma once

#if !defined(ONNX_ML) || !defined(ONNX_NAMESPACE)
#error \
    "lamina/onnx needs ONNX's protobuf classes: link lamina::onnx (find_package(lamina COMPONENTS onnx)), or compile with -DONNX_ML=1 -DONNX_NAMESPACE=onnx and link -lonnx_proto -lprotobuf"
#endif

#include <onnx/onnx_pb.h>

#include <cstdint>

namespace lamina::onnx {

inline constexpr std::int64_t ir_version = 8;
inline constexpr std::int64_t opset_version = 17;

}  // namespace lamina::onnx
