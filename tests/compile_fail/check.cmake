# Compiles SOURCE twice with -fsyntax-only: as written, which must succeed
# (so the test proves the include paths and flags work), and with -DMISUSE,
# which must fail with an error matching EXPECT.
#   cmake -DCXX=... -DFLAGS="a|b" -DSOURCE=... -DEXPECT=regex -P check.cmake
string(REPLACE "|" ";" flags "${FLAGS}")
execute_process(COMMAND ${CXX} ${flags} -fsyntax-only ${SOURCE} RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the correct use does not compile:\n${err}")
endif()
execute_process(COMMAND ${CXX} ${flags} -DMISUSE -fsyntax-only ${SOURCE} RESULT_VARIABLE rc ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "the misuse compiles; it must not")
endif()
if(NOT err MATCHES "${EXPECT}")
  message(FATAL_ERROR "the misuse fails to compile, but not with an error matching '${EXPECT}':\n${err}")
endif()
message("the misuse is refused at compile time, as it should be")
