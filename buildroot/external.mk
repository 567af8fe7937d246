include $(sort $(wildcard $(BR2_EXTERNAL_PINIT_PATH)/package/*/*.mk))
