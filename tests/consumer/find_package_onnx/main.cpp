// A first ONNX export against an installed lamina: a small model written
// beside the program (<program>.onnx) and read back with ONNX's own
// protobuf classes.
#include <lamina/lamina.hpp>
#include <lamina/onnx/export.hpp>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

int main(int, char** argv) {
    const std::string path = std::string(argv[0]) + ".onnx";
    lamina::Sequential<float> model("consumer", 1);
    model.add(lamina::Flatten());
    model.add(lamina::Dense(4, "relu"));
    model.add(lamina::Dense(2, "softmax"));
    model.build(lamina::Shape{1, 3, 3});
    lamina::onnx::save(model, path);

    std::ifstream f(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    onnx::ModelProto read;
    if (!read.ParseFromString(bytes) || read.graph().node_size() != 5) {
        std::printf("consumer_onnx: %s does not hold the model's 5 nodes\n", path.c_str());
        return 1;
    }
    std::printf("consumer_onnx: exported %d nodes, opset %lld\n", read.graph().node_size(),
                static_cast<long long>(read.opset_import(0).version()));
    return 0;
}
