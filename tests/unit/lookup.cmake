# Unit tests of the tables, the users table, the lookup agent's answers
# and local's Maildir writes.
postern_unit_test(test_table SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_table.c)
postern_unit_test(test_users SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_users.c)
postern_unit_test(test_lookup_answer
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_lookup_answer.c
          ${CMAKE_SOURCE_DIR}/lookup/answer.c)
postern_unit_test(test_maildir
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_maildir.c
          ${CMAKE_SOURCE_DIR}/delivery/maildir.c)
