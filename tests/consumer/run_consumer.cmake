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
#   add_subdirectory         consumer/add_subdirectory adds LAMINA_SOURCE_DIR
#   fetchcontent_source_dir  consumer/fetchcontent, FetchContent_Declare(SOURCE_DIR)
#   fetchcontent_url         consumer/fetchcontent, FetchContent_Declare(URL file://...)
#                            of a tarball of the source tree made here (no network)
# Optional: GENERATOR, MAKE_PROGRAM, BUILD_TYPE, CXX_FLAGS, COMPILER_LAUNCHER,
# TOOLCHAIN_FILE (the outer build's), WERROR, NATIVE, VERSION (lamina's
# options and version, which the consumer checks).
#
# WORK_DIR is deleted first: every run starts from nothing.
cmake_minimum_required(VERSION 3.21)

foreach(var MODE LAMINA_SOURCE_DIR WORK_DIR CXX_COMPILER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT DEFINED NATIVE OR "${NATIVE}" STREQUAL "")
  set(NATIVE ON)
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

# The outer build's toolchain, for every nested configure.
set(toolchain_args -DCMAKE_CXX_COMPILER=${CXX_COMPILER} "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
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
set(consumer_args -DLAMINA_CONSUMER_WERROR=${WERROR} -DLAMINA_CONSUMER_EXPECT_VERSION=${VERSION}
    -DLAMINA_CONSUMER_EXPECT_NATIVE=${NATIVE})

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

if(MODE STREQUAL "find_package")
  set(consumer_src "${consumers}/find_package")
  set(prefix "${WORK_DIR}/prefix")
  # Configured for another prefix: `cmake --install --prefix` must relocate the
  # package (as README's instructions do).
  step("configure lamina (install only)"
       ${CMAKE_COMMAND} -S "${LAMINA_SOURCE_DIR}" -B "${WORK_DIR}/lamina-build" ${toolchain_args}
       -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/unused-prefix -DLAMINA_NATIVE=${NATIVE}
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
elseif(MODE STREQUAL "add_subdirectory")
  set(consumer_src "${consumers}/add_subdirectory")
  list(APPEND consumer_args "-DLAMINA_SOURCE_DIR=${LAMINA_SOURCE_DIR}" -DLAMINA_NATIVE=${NATIVE})
elseif(MODE STREQUAL "fetchcontent_source_dir")
  set(consumer_src "${consumers}/fetchcontent")
  list(APPEND consumer_args "-DLAMINA_SOURCE_DIR=${LAMINA_SOURCE_DIR}" -DLAMINA_NATIVE=${NATIVE})
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
  list(APPEND consumer_args "-DLAMINA_URL=file://${tarball}" "-DLAMINA_URL_HASH=SHA256=${sha256}"
       -DLAMINA_NATIVE=${NATIVE})
else()
  message(FATAL_ERROR "run_consumer.cmake: unknown MODE '${MODE}'")
endif()

set(consumer_build "${WORK_DIR}/consumer-build")
step("configure consumer (${MODE})"
     ${CMAKE_COMMAND} -S "${consumer_src}" -B "${consumer_build}" ${toolchain_args} ${consumer_args})
step("build consumer" ${CMAKE_COMMAND} --build "${consumer_build}" ${config_args})

set(exe "${consumer_build}/consumer")
if(NOT EXISTS "${exe}" AND BUILD_TYPE)
  set(exe "${consumer_build}/${BUILD_TYPE}/consumer")  # multi-config generators
endif()
step("run consumer" "${exe}")

string(TIMESTAMP now "%s")
math(EXPR total "${now} - ${start}")
message(STATUS "packaging test ${MODE}: passed in ${total} s")
