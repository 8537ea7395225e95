# Checks shared by the consumer projects of lamina's packaging tests
# (tests/packaging.cmake runs them through run_consumer.cmake). A real project
# that uses lamina needs none of this.
#
# Cache variables the test driver sets:
#   LAMINA_CONSUMER_EXPECT_VERSION  lamina's project version: build_info() must report it
#   LAMINA_CONSUMER_EXPECT_IMAGES   ON: lamina::images must exist (stb is there);
#                                   OFF: it must not (stb hidden); unset: either
#   LAMINA_CONSUMER_FLOAT_INSTANCES ON: also build consumer_instances

# Builds ../main.cpp twice, each the way a user would:
#   consumer           lamina::native (the documented fast path), plus
#                      lamina::images where it exists
#   consumer_portable  lamina::lamina and the consumer's own -march=x86-64,
#                      which must be the only -march that counts
#   consumer_instances lamina::native, main.cpp through lamina/float_instances.hpp
#                      and the float classes compiled once in float_instances.cpp
# All with strict warnings and -Werror: lamina's headers must not break a
# strict user's build.
function(lamina_consumer_programs)
  if(DEFINED LAMINA_CONSUMER_EXPECT_IMAGES AND NOT "${LAMINA_CONSUMER_EXPECT_IMAGES}" STREQUAL "")
    if(LAMINA_CONSUMER_EXPECT_IMAGES AND NOT TARGET lamina::images)
      message(FATAL_ERROR "stb is installed, but lamina defined no lamina::images")
    elseif(NOT LAMINA_CONSUMER_EXPECT_IMAGES AND TARGET lamina::images)
      message(FATAL_ERROR "stb is hidden from this build, yet lamina defined lamina::images")
    endif()
  endif()
  get_filename_component(mode "${CMAKE_CURRENT_SOURCE_DIR}" NAME)

  add_executable(consumer ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/main.cpp)
  target_link_libraries(consumer PRIVATE lamina::native)
  target_compile_definitions(consumer PRIVATE LAMINA_CONSUMER_EXPECT_NATIVE)
  if(TARGET lamina::images)
    target_link_libraries(consumer PRIVATE lamina::images)
    target_compile_definitions(consumer PRIVATE LAMINA_CONSUMER_IMAGES)
  endif()

  add_executable(consumer_portable ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/main.cpp)
  target_link_libraries(consumer_portable PRIVATE lamina::lamina)
  target_compile_definitions(consumer_portable PRIVATE LAMINA_CONSUMER_PORTABLE)
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
    target_compile_options(consumer_portable PRIVATE -march=x86-64)
  endif()

  set(programs consumer consumer_portable)
  if(LAMINA_CONSUMER_FLOAT_INSTANCES)
    add_executable(consumer_instances ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/main.cpp
                                      ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/float_instances.cpp)
    target_link_libraries(consumer_instances PRIVATE lamina::native)
    target_compile_definitions(consumer_instances PRIVATE LAMINA_CONSUMER_EXPECT_NATIVE LAMINA_CONSUMER_FLOAT_INSTANCES)
    list(APPEND programs consumer_instances)
  endif()
  foreach(target IN LISTS programs)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Werror)
    target_compile_definitions(${target} PRIVATE LAMINA_CONSUMER_MODE="${mode}")
    if(LAMINA_CONSUMER_EXPECT_VERSION)
      target_compile_definitions(${target} PRIVATE LAMINA_CONSUMER_EXPECT_VERSION="${LAMINA_CONSUMER_EXPECT_VERSION}")
    endif()
  endforeach()
endfunction()

# lamina added as a subproject (add_subdirectory / FetchContent) must not
# build its tests, examples or benchmarks: their options default to
# PROJECT_IS_TOP_LEVEL, which is false here.
function(lamina_consumer_expect_subproject lamina_source_dir)
  foreach(opt LAMINA_BUILD_TESTS LAMINA_BUILD_EXAMPLES LAMINA_BUILD_BENCHMARKS)
    if(${opt})
      message(FATAL_ERROR "lamina as a subproject: ${opt} is '${${opt}}', expected OFF by default")
    endif()
  endforeach()
  get_property(subdirs DIRECTORY "${lamina_source_dir}" PROPERTY SUBDIRECTORIES)
  foreach(dir IN LISTS subdirs)
    if(dir MATCHES "/(tests|examples|benchmarks)$")
      message(FATAL_ERROR "lamina as a subproject added its directory ${dir}")
    endif()
  endforeach()
  get_property(targets DIRECTORY "${lamina_source_dir}" PROPERTY BUILDSYSTEM_TARGETS)
  foreach(t lamina_tests mnist_mlp)
    if(TARGET ${t})
      message(FATAL_ERROR "lamina as a subproject defined the target ${t}")
    endif()
  endforeach()
  if(NOT TARGET lamina::lamina OR NOT TARGET lamina::native)
    message(FATAL_ERROR "lamina as a subproject did not define lamina::lamina and lamina::native")
  endif()
  message(STATUS "lamina subproject at ${lamina_source_dir}: targets ${targets}; no tests, examples or benchmarks")
endfunction()
