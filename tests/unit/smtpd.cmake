# smtpd's unit tests: the address parser (common/address.c) and the SMTP
# command and DATA parsers (smtpd/command.c, smtpd/data.c in smtpd_core).
postern_unit_test(test_address
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_address.c)
postern_unit_test(test_smtp_command
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_smtp_command.c
  LIBS smtpd_core)
