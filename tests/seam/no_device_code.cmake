# The device seam, checked in the source: layers, losses, optimizers and
# Sequential reach arithmetic only through Backend<Device> (backend/backend.hpp),
# so a second device adds files under backend/ and touches none of these.
# Fails naming each line that includes a CPU backend header or calls into the
# CPU directly.
#   cmake -DSOURCE_DIR=<repo> -P no_device_code.cmake
file(GLOB headers ${SOURCE_DIR}/include/lamina/layers/*.hpp ${SOURCE_DIR}/include/lamina/losses/*.hpp
     ${SOURCE_DIR}/include/lamina/optimizers/*.hpp)
list(APPEND headers ${SOURCE_DIR}/include/lamina/model/sequential.hpp
     ${SOURCE_DIR}/include/lamina/model/sequential_file.hpp ${SOURCE_DIR}/include/lamina/model/inference_plan.hpp)
set(forbidden "lamina/backend/cpu/|Cpu\\{\\}|backend::|Eigen::|#pragma omp|omp_[a-z_]+\\(")
set(found "")
foreach(header IN LISTS headers)
  # One list element per line: semicolons escaped first, so they do not split lines.
  file(READ ${header} content)
  string(REPLACE ";" "<semicolon>" content "${content}")
  string(REPLACE "\n" ";" lines "${content}")
  set(number 0)
  foreach(line IN LISTS lines)
    math(EXPR number "${number} + 1")
    string(REPLACE "<semicolon>" ";" line "${line}")
    string(REGEX REPLACE "//.*" "" code "${line}")
    if(code MATCHES "${forbidden}")
      file(RELATIVE_PATH name ${SOURCE_DIR} ${header})
      string(APPEND found "\n  ${name}:${number}: ${line}")
    endif()
  endforeach()
endforeach()
list(LENGTH headers count)
if(found)
  message(FATAL_ERROR "device-specific code outside backend/ (use Backend<Device>::...):${found}")
endif()
message("${count} headers call devices only through Backend<Device>")
