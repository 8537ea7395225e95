# Packaging tests (ctest -L packaging): a small program builds and runs
# against lamina the three ways README.md offers: find_package after
# `cmake --install`, add_subdirectory, and FetchContent (from a source
# directory and from a file:// tarball, no network), the same with stb hidden
# (lamina without its images component), lamina's own targets' view of
# its headers, the cuda component where nvcc is installed, the mpi component
# in a LAMINA_MPI build, and the onnx component in a LAMINA_ONNX build. The consumer projects
# are in consumer/; consumer/run_consumer.cmake drives one of them with the
# same compiler, flags, generator and build type as this build. Each test
# works in its own folder under <build>/tests/packaging/ and starts from scratch.
set(LAMINA_PACKAGING_MODES find_package find_package_no_stb find_package_images_no_stb add_subdirectory
    add_subdirectory_no_stb fetchcontent_source_dir fetchcontent_url own_targets)
foreach(mode IN LISTS LAMINA_PACKAGING_MODES)
  add_test(NAME packaging.${mode}
    COMMAND ${CMAKE_COMMAND}
      -DMODE=${mode}
      -DLAMINA_SOURCE_DIR=${lamina_SOURCE_DIR}
      -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/packaging/${mode}
      -DCXX_COMPILER=${CMAKE_CXX_COMPILER}
      "-DCXX_FLAGS=${CMAKE_CXX_FLAGS}"
      "-DGENERATOR=${CMAKE_GENERATOR}"
      -DMAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}
      -DBUILD_TYPE=$<CONFIG>
      "-DCOMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER}"
      "-DTOOLCHAIN_FILE=${CMAKE_TOOLCHAIN_FILE}"
      "-DSTB_DIR=${LAMINA_STB_INCLUDE_DIR}"
      -DVERSION=${lamina_VERSION}
      -P ${CMAKE_CURRENT_SOURCE_DIR}/consumer/run_consumer.cmake)
  set_tests_properties(packaging.${mode} PROPERTIES LABELS packaging TIMEOUT 300)
endforeach()

# The cuda component from an installed lamina, where nvcc is (no GPU needed).
find_program(LAMINA_PACKAGING_NVCC nvcc HINTS /usr/local/cuda/bin)
if(LAMINA_PACKAGING_NVCC)
  add_test(NAME packaging.find_package_cuda
    COMMAND ${CMAKE_COMMAND} -DMODE=find_package_cuda -DLAMINA_SOURCE_DIR=${lamina_SOURCE_DIR}
      -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/packaging/find_package_cuda -DCXX_COMPILER=${CMAKE_CXX_COMPILER}
      "-DCXX_FLAGS=${CMAKE_CXX_FLAGS}" "-DGENERATOR=${CMAKE_GENERATOR}" -DMAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}
      -DBUILD_TYPE=$<CONFIG> -DNVCC=${LAMINA_PACKAGING_NVCC} -DVERSION=${lamina_VERSION}
      -P ${CMAKE_CURRENT_SOURCE_DIR}/consumer/run_consumer.cmake)
  set_tests_properties(packaging.find_package_cuda PROPERTIES LABELS packaging TIMEOUT 600)
else()
  add_test(NAME packaging.find_package_cuda
           COMMAND sh -c "echo 'skipped: nvcc not found (CUDA toolkit at /usr/local/cuda)'; exit 77")
  set_tests_properties(packaging.find_package_cuda PROPERTIES LABELS packaging SKIP_RETURN_CODE 77)
endif()

# The mpi and onnx components from an installed lamina, in a build
# configured with their option (which found MPI or ONNX); they run with that
# component's tests (ctest -L mpi, -L onnx). ARGN: the tests' environment.
function(lamina_component_packaging_test component option)
  set(name packaging.find_package_${component})
  if(${option})
    add_test(NAME ${name}
      COMMAND ${CMAKE_COMMAND} -DMODE=find_package_${component} -DLAMINA_SOURCE_DIR=${lamina_SOURCE_DIR}
        -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/packaging/find_package_${component} -DCXX_COMPILER=${CMAKE_CXX_COMPILER}
        "-DCXX_FLAGS=${CMAKE_CXX_FLAGS}" "-DGENERATOR=${CMAKE_GENERATOR}" -DMAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}
        -DBUILD_TYPE=$<CONFIG> -DVERSION=${lamina_VERSION}
        -P ${CMAKE_CURRENT_SOURCE_DIR}/consumer/run_consumer.cmake)
    set_tests_properties(${name} PROPERTIES LABELS "packaging;${component}" TIMEOUT 300 ENVIRONMENT "${ARGN}")
  else()
    add_test(NAME ${name}
             COMMAND sh -c "echo 'skipped: the ${component} component is tested in a build configured with -D${option}=ON'; exit 77")
    set_tests_properties(${name} PROPERTIES LABELS packaging SKIP_RETURN_CODE 77)
  endif()
endfunction()
lamina_component_packaging_test(mpi LAMINA_MPI "OMP_NUM_THREADS=1;OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
lamina_component_packaging_test(onnx LAMINA_ONNX)
