# Driver of one packaging test (see tests/packaging.cmake): builds one of the
# consumer projects next to this file against lamina, the way a user would,
# then runs it.
#
#   cmake -DMODE=<mode> -DLAMINA_SOURCE_DIR=... -DWORK_DIR=... -DCXX_COMPILER=... -P run_consumer.cmake
#
# MODE
#   find_package             configure lamina alone (no tests/examples/benchmarks),
#                            `cmake --install --prefix` it under WORK_DIR, then
#                            consumer/find_package finds it with CMAKE_PREFIX_PATH
#                            and COMPONENTS images; also builds consumer_instances
#   find_package_no_stb      the same, without components, with stb hidden from
#                            the consumer (CMAKE_IGNORE_PATH=STB_DIR): still builds
#   find_package_images_no_stb  COMPONENTS images with stb hidden: the consumer's
#                            configure must fail, saying that images needs stb
#   find_package_cuda        consumer/find_package_cuda: COMPONENTS cuda, a .cu
#                            program compiled by NVCC (-DNVCC=...) against
#                            lamina::cuda with -Werror, run (no GPU: it must
#                            report lamina's device_unavailable error)
#   find_package_mpi         consumer/find_package_mpi: COMPONENTS mpi, a program
#                            against lamina::mpi with -Werror, run as one process
#   find_package_onnx        consumer/find_package_onnx: COMPONENTS onnx, a program
#                            against lamina::onnx with -Werror that exports a model
#   add_subdirectory         consumer/add_subdirectory adds LAMINA_SOURCE_DIR
#   add_subdirectory_no_stb  the same with stb hidden: lamina::lamina only
#   fetchcontent_source_dir  consumer/fetchcontent, FetchContent_Declare(SOURCE_DIR)
#   fetchcontent_url         consumer/fetchcontent, FetchContent_Declare(URL file://...)
#                            of a tarball of the source tree made here (no network)
#   own_targets              configures lamina itself with its tests: they must see
#                            lamina's headers with -I, not as system headers
# Every consumer builds main.cpp with strict warnings and -Werror, as
# `consumer` (lamina::native, + lamina::images) and `consumer_portable`
# (lamina::lamina, its own -march=x86-64); see consumer_checks.cmake. Where the
# generator writes compile_commands.json, the commands are checked too: no
# -march=native in consumer_portable's, no lamina include directory as -I.
# Optional: GENERATOR, MAKE_PROGRAM, BUILD_TYPE, CXX_FLAGS, COMPILER_LAUNCHER,
# TOOLCHAIN_FILE (the outer build's), STB_DIR (where the outer build found
# stb, for the _no_stb modes), VERSION (lamina's, which the consumer checks).
#
# WORK_DIR is deleted first: every run starts from nothing.
cmake_minimum_required(VERSION 3.21)

foreach(var MODE LAMINA_SOURCE_DIR WORK_DIR CXX_COMPILER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: -D${var}=... is required")
  endif()
endforeach()
if(MODE MATCHES "_no_stb$" AND (NOT STB_DIR OR NOT EXISTS "${STB_DIR}/stb_image.h"))
  message(FATAL_ERROR "run_consumer.cmake: MODE ${MODE} needs -DSTB_DIR=<directory of stb_image.h>, got '${STB_DIR}'")
endif()

set(consumers "${CMAKE_CURRENT_LIST_DIR}")
string(TIMESTAMP start "%s")
set(step_start ${start})

# Runs a command; stops the test with its exit status when it fails.
function(step what)
  message(STATUS "---- ${what}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  string(TIMESTAMP now "%s")
  math(EXPR secs "${now} - ${step_start}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "packaging test ${MODE}: '${what}' failed (${rc}) after ${secs} s:\n  ${ARGN}")
  endif()
  message(STATUS "---- ${what}: ${secs} s")
  set(step_start ${now} PARENT_SCOPE)
endfunction()

# Runs a command that must fail, printing a message that matches `expect`.
function(step_fails what expect)
  message(STATUS "---- ${what} (must fail)")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(TIMESTAMP now "%s")
  math(EXPR secs "${now} - ${step_start}")
  if(rc EQUAL 0)
    message(FATAL_ERROR "packaging test ${MODE}: '${what}' succeeded, expected it to fail:\n  ${ARGN}\n${out}${err}")
  endif()
  if(NOT "${out}${err}" MATCHES "${expect}")
    message(FATAL_ERROR "packaging test ${MODE}: '${what}' failed without saying '${expect}':\n${out}${err}")
  endif()
  message(STATUS "---- ${what}: failed as expected, saying '${expect}' (${secs} s)")
  set(step_start ${now} PARENT_SCOPE)
endfunction()

# compile_commands.json of `build_dir` (Makefile and Ninja generators) as two
# lists of the same length, source files and their commands; empty without one.
function(lamina_read_compile_commands build_dir out_files out_commands)
  set(files)
  set(commands)
  if(EXISTS "${build_dir}/compile_commands.json")
    file(READ "${build_dir}/compile_commands.json" json)
    string(JSON n LENGTH "${json}")
    math(EXPR last "${n} - 1")
    foreach(i RANGE ${last})
      string(JSON file GET "${json}" ${i} file)
      string(JSON command ERROR_VARIABLE no_command GET "${json}" ${i} command)
      if(no_command)
        string(JSON command GET "${json}" ${i} output)  # "arguments" form: the check sees the output name only
      endif()
      list(APPEND files "${file}")
      string(REPLACE ";" " " command "${command}")
      list(APPEND commands "${command}")
    endforeach()
  endif()
  set(${out_files} "${files}" PARENT_SCOPE)
  set(${out_commands} "${commands}" PARENT_SCOPE)
endfunction()

# The outer build's toolchain, for every nested configure.
set(toolchain_args -DCMAKE_CXX_COMPILER=${CXX_COMPILER} "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON)
if(GENERATOR)
  list(APPEND toolchain_args -G "${GENERATOR}")
endif()
if(MAKE_PROGRAM)
  list(APPEND toolchain_args -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
if(BUILD_TYPE)
  list(APPEND toolchain_args -DCMAKE_BUILD_TYPE=${BUILD_TYPE})
  set(config_args --config ${BUILD_TYPE})
endif()
if(COMPILER_LAUNCHER)
  list(APPEND toolchain_args -DCMAKE_CXX_COMPILER_LAUNCHER=${COMPILER_LAUNCHER})
endif()
if(TOOLCHAIN_FILE)
  list(APPEND toolchain_args -DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN_FILE})
endif()
set(consumer_args -DLAMINA_CONSUMER_EXPECT_VERSION=${VERSION})
if(MODE MATCHES "_no_stb$")
  # As on a machine without stb: find_path(... stb_image.h PATH_SUFFIXES stb)
  # finds nothing, and no compile command gets stb's directory.
  list(APPEND consumer_args "-DCMAKE_IGNORE_PATH=${STB_DIR}" -DLAMINA_CONSUMER_EXPECT_IMAGES=OFF)
elseif(NOT MODE STREQUAL "own_targets")
  list(APPEND consumer_args -DLAMINA_CONSUMER_EXPECT_IMAGES=ON)
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

if(MODE STREQUAL "own_targets")
  # Configure only: lamina_tests' compile commands are what is checked.
  set(own_build "${WORK_DIR}/lamina-build")
  step("configure lamina with its tests"
       ${CMAKE_COMMAND} -S "${LAMINA_SOURCE_DIR}" -B "${own_build}" ${toolchain_args}
       -DLAMINA_BUILD_TESTS=ON -DLAMINA_BUILD_EXAMPLES=ON -DLAMINA_BUILD_BENCHMARKS=OFF)
  lamina_read_compile_commands("${own_build}" files commands)
  if(NOT files)
    message(STATUS "packaging test ${MODE}: the generator wrote no compile_commands.json; nothing to check")
    return()
  endif()
  set(include_dir "${LAMINA_SOURCE_DIR}/include")
  set(checked 0)
  foreach(file command IN ZIP_LISTS files commands)
    if(NOT file MATCHES "/(tests|examples)/[^/]+\\.cpp$")
      continue()
    endif()
    string(FIND "${command}" "-I${include_dir} " plain)
    string(FIND "${command}" "-isystem ${include_dir} " system)
    if(plain EQUAL -1 OR NOT system EQUAL -1)
      message(FATAL_ERROR "packaging test ${MODE}: lamina's own ${file} must see ${include_dir} with -I (so "
                          "that lamina's warnings reach its own builds), not as a system directory:\n  ${command}")
    endif()
    math(EXPR checked "${checked} + 1")
  endforeach()
  if(checked EQUAL 0)
    message(FATAL_ERROR "packaging test ${MODE}: no compile command of lamina's tests or examples found")
  endif()
  message(STATUS "packaging test ${MODE}: ${checked} of lamina's own sources see its headers with -I")
  return()
elseif(MODE MATCHES "^find_package")
  set(consumer_src "${consumers}/find_package")
  if(MODE STREQUAL "find_package_cuda")
    set(consumer_src "${consumers}/find_package_cuda")
    list(APPEND consumer_args "-DCMAKE_CUDA_COMPILER=${NVCC}")
  elseif(MODE STREQUAL "find_package_mpi")
    set(consumer_src "${consumers}/find_package_mpi")
  elseif(MODE STREQUAL "find_package_onnx")
    set(consumer_src "${consumers}/find_package_onnx")
  endif()
  set(prefix "${WORK_DIR}/prefix")
  # Configured for another prefix: `cmake --install --prefix` must relocate the
  # package (as README's instructions do).
  step("configure lamina (install only)"
       ${CMAKE_COMMAND} -S "${LAMINA_SOURCE_DIR}" -B "${WORK_DIR}/lamina-build" ${toolchain_args}
       -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/unused-prefix
       -DLAMINA_BUILD_TESTS=OFF -DLAMINA_BUILD_EXAMPLES=OFF -DLAMINA_BUILD_BENCHMARKS=OFF)
  step("build lamina" ${CMAKE_COMMAND} --build "${WORK_DIR}/lamina-build" ${config_args})
  step("install lamina to ${prefix}"
       ${CMAKE_COMMAND} --install "${WORK_DIR}/lamina-build" --prefix "${prefix}" ${config_args})
  file(GLOB_RECURSE config_files "${prefix}/*/laminaConfig.cmake")
  if(NOT EXISTS "${prefix}/include/lamina/lamina.hpp" OR NOT config_files)
    message(FATAL_ERROR "the install prefix ${prefix} lacks include/lamina/lamina.hpp or laminaConfig.cmake")
  endif()
  if(EXISTS "${WORK_DIR}/unused-prefix")
    message(FATAL_ERROR "cmake --install --prefix wrote to the configured prefix ${WORK_DIR}/unused-prefix")
  endif()
  list(APPEND consumer_args "-DCMAKE_PREFIX_PATH=${prefix}" "-DLAMINA_CONSUMER_EXPECT_PREFIX=${prefix}")
  if(MODE STREQUAL "find_package" OR MODE STREQUAL "find_package_images_no_stb")
    list(APPEND consumer_args -DLAMINA_CONSUMER_COMPONENTS=images)
  endif()
  if(MODE STREQUAL "find_package")
    list(APPEND consumer_args -DLAMINA_CONSUMER_FLOAT_INSTANCES=ON)
  endif()
elseif(MODE MATCHES "^add_subdirectory")
  set(consumer_src "${consumers}/add_subdirectory")
  list(APPEND consumer_args "-DLAMINA_SOURCE_DIR=${LAMINA_SOURCE_DIR}")
elseif(MODE STREQUAL "fetchcontent_source_dir")
  set(consumer_src "${consumers}/fetchcontent")
  list(APPEND consumer_args "-DLAMINA_SOURCE_DIR=${LAMINA_SOURCE_DIR}")
elseif(MODE STREQUAL "fetchcontent_url")
  set(consumer_src "${consumers}/fetchcontent")
  # A release-style tarball of the working tree (the sources and build files,
  # not data/, docs/ or build directories), fetched through a file:// URL.
  set(tarball "${WORK_DIR}/lamina-${VERSION}.tar.gz")
  set(members)
  foreach(m CMakeLists.txt cmake include tests examples benchmarks LICENSE README.md)
    if(EXISTS "${LAMINA_SOURCE_DIR}/${m}")
      list(APPEND members ${m})
    endif()
  endforeach()
  step("make ${tarball}" ${CMAKE_COMMAND} -E chdir "${LAMINA_SOURCE_DIR}"
       ${CMAKE_COMMAND} -E tar czf "${tarball}" ${members})
  file(SHA256 "${tarball}" sha256)
  list(APPEND consumer_args "-DLAMINA_URL=file://${tarball}" "-DLAMINA_URL_HASH=SHA256=${sha256}")
else()
  message(FATAL_ERROR "run_consumer.cmake: unknown MODE '${MODE}'")
endif()

set(consumer_build "${WORK_DIR}/consumer-build")
if(MODE STREQUAL "find_package_images_no_stb")
  step_fails("configure consumer (${MODE})" "component 'images' needs stb.*libstb-dev"
             ${CMAKE_COMMAND} -S "${consumer_src}" -B "${consumer_build}" ${toolchain_args} ${consumer_args})
  string(TIMESTAMP now "%s")
  math(EXPR total "${now} - ${start}")
  message(STATUS "packaging test ${MODE}: passed in ${total} s")
  return()
endif()
step("configure consumer (${MODE})"
     ${CMAKE_COMMAND} -S "${consumer_src}" -B "${consumer_build}" ${toolchain_args} ${consumer_args})
step("build consumer" ${CMAKE_COMMAND} --build "${consumer_build}" ${config_args})

# What the compiler was told: the consumer's -march=x86-64 alone, and lamina's
# headers as system headers (else the consumer's -Werror meets lamina's warnings).
lamina_read_compile_commands("${consumer_build}" files commands)
foreach(file command IN ZIP_LISTS files commands)
  if(command MATCHES "consumer_portable" AND command MATCHES "-march=native")
    message(FATAL_ERROR "packaging test ${MODE}: consumer_portable (lamina::lamina, -march=x86-64) was compiled "
                        "with -march=native:\n  ${command}")
  endif()
  string(REGEX MATCHALL "(^| )-I *[^ ]+" includes "${command}")
  foreach(flag IN LISTS includes)
    string(REGEX REPLACE "^ ?-I *" "" dir "${flag}")
    if(EXISTS "${dir}/lamina/lamina.hpp")
      message(FATAL_ERROR "packaging test ${MODE}: lamina's headers reach ${file} with -I${dir}, not as system "
                          "headers:\n  ${command}")
    endif()
  endforeach()
endforeach()
if(files)
  message(STATUS "---- compile commands checked: ${files}")
endif()

set(programs consumer consumer_portable consumer_instances)
if(MODE STREQUAL "find_package_cuda")
  set(programs consumer_cuda)
elseif(MODE STREQUAL "find_package_mpi")
  set(programs consumer_mpi)
elseif(MODE STREQUAL "find_package_onnx")
  set(programs consumer_onnx)
endif()
foreach(program IN LISTS programs)
  if(program STREQUAL "consumer_instances" AND NOT MODE STREQUAL "find_package")
    continue()
  endif()
  set(exe "${consumer_build}/${program}")
  if(NOT EXISTS "${exe}" AND BUILD_TYPE)
    set(exe "${consumer_build}/${BUILD_TYPE}/${program}")  # multi-config generators
  endif()
  step("run ${program}" "${exe}")
endforeach()

string(TIMESTAMP now "%s")
math(EXPR total "${now} - ${start}")
message(STATUS "packaging test ${MODE}: passed in ${total} s")
