# Runs one example for ctest and checks both its exit code and its output:
# ctest's PASS_REGULAR_EXPRESSION alone would ignore the exit code.
#   cmake -DPROGRAM=exe -DARGS="a|b|c" -DEXPECT_RC=0 -DEXPECT="regex" [-DREJECT="regex"] -P run_example.cmake
# REJECT: output that must not appear (e.g. an epoch, when the arguments
# must be refused before training).
string(REPLACE "|" ";" args "${ARGS}")
execute_process(COMMAND "${PROGRAM}" ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc STREQUAL "${EXPECT_RC}")
  message(FATAL_ERROR "exit code ${rc}, expected ${EXPECT_RC}")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT}")
  message(FATAL_ERROR "output does not match: ${EXPECT}")
endif()
if(DEFINED REJECT AND "${out}${err}" MATCHES "${REJECT}")
  message(FATAL_ERROR "output matches what it must not: ${REJECT}")
endif()
