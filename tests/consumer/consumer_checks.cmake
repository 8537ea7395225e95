# Checks shared by the consumer projects of lamina's packaging tests
# (tests/packaging.cmake runs them through run_consumer.cmake). A real project
# that uses lamina needs none of this.
#
# Cache variables the test driver sets:
#   LAMINA_CONSUMER_WERROR          compile the consumer with -Werror as well
#   LAMINA_CONSUMER_EXPECT_VERSION  lamina's project version: build_info() must report it
#   LAMINA_CONSUMER_EXPECT_NATIVE   lamina was configured with LAMINA_NATIVE=ON

# Warnings as strict as lamina's own targets: lamina's headers must compile
# cleanly in a user's program too.
function(lamina_consumer_setup target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic $<$<BOOL:${LAMINA_CONSUMER_WERROR}>:-Werror>)
  # The shared main.cpp prints which consumer project built it.
  get_filename_component(mode "${CMAKE_CURRENT_SOURCE_DIR}" NAME)
  target_compile_definitions(${target} PRIVATE LAMINA_CONSUMER_MODE="${mode}")
  if(LAMINA_CONSUMER_EXPECT_VERSION)
    target_compile_definitions(${target} PRIVATE LAMINA_CONSUMER_EXPECT_VERSION="${LAMINA_CONSUMER_EXPECT_VERSION}")
  endif()
  if(LAMINA_CONSUMER_EXPECT_NATIVE)
    target_compile_definitions(${target} PRIVATE LAMINA_CONSUMER_EXPECT_NATIVE)
  endif()
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
  if(NOT TARGET lamina::lamina)
    message(FATAL_ERROR "lamina as a subproject did not define lamina::lamina")
  endif()
  message(STATUS "lamina subproject at ${lamina_source_dir}: targets ${targets}; no tests, examples or benchmarks")
endfunction()
